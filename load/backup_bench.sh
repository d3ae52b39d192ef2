#!/usr/bin/env bash
# Measures `sluicectl backup create` on a large site while it serves check-ins: a data dir with
# CLIENTS clients and EVENTS audit events (written straight into its SQLite database), a running
# sluiced, a `sluice-load checkin` run attached to it, and a protected backup taken in the middle
# of that run. Prints one JSON object: the backup's wall time and size, sluiced's resident
# memory before the backup and its peak (VmHWM) after it, and the check-in figures of the run
# (which include the backup's seconds). Loopback only; every phase is bounded.
#
# Usage: load/backup_bench.sh [BUILD_BIN_DIR] (default build/bin)
# Knobs (environment): CLIENTS=100000 EVENTS=1000000 LOAD_CLIENTS=500 LOAD_S=40
#                      BACKUP=0 runs the same load without the backup (the baseline)
set -euo pipefail

bin=$(cd "${1:-build/bin}" && pwd)
clients=${CLIENTS:-100000}
events=${EVENTS:-1000000}
load_clients=${LOAD_CLIENTS:-500}
load_s=${LOAD_S:-40}
for tool in "$bin/sluiced" "$bin/sluicectl" "$bin/sluice-load" sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "backup_bench: $tool not found" >&2; exit 2; }
done

# shellcheck source=load/bench_site.sh
source "$(dirname "$0")/bench_site.sh"

work=$(mktemp -d /tmp/sluice-backup-bench-XXXXXX)
data=$work/data
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

start_server() { start_bench_server "$data" "$work/sluiced.log"; }
stop_server() { stop_bench_server; }

# 1. A site with the schema, then the fleet and its history straight into SQLite.
start_server
stop_server
write_bench_site "$data/db/sluice.db" "$clients" "$events"
db_bytes=$(stat -c %s "$data/db/sluice.db")

# 2. The server, serving check-ins, and a backup in the middle of that.
start_server
"$bin/sluice-load" checkin --attach "$data" --clients "$load_clients" --duration-s "$load_s" \
  --timeout-s $((load_s * 4)) --json --no-progress >"$work/load.json" 2>"$work/load.log" &
load_pid=$!
sleep $((load_s / 4))
rss_before_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status")
echo "backup password" >"$work/pw"
backup_ms=0 backup_bytes=0
echo '{"entries": []}' >"$work/manifest.json"
if [[ "${BACKUP:-1}" != 0 ]]; then
  start_ns=$(date +%s%N)
  "$bin/sluicectl" --data-dir "$data" --timeout 0 backup create --out "$work/site.sluicebackup" \
    --password-file "$work/pw" >"$work/backup.out"
  backup_ms=$((($(date +%s%N) - start_ns) / 1000000))
fi
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
wait "$load_pid" || { cat "$work/load.log" >&2; exit 1; }
if [[ "${BACKUP:-1}" != 0 ]]; then
  backup_bytes=$(stat -c %s "$work/site.sluicebackup")
  "$bin/sluicectl" backup inspect "$work/site.sluicebackup" --password-file "$work/pw" --json \
    >"$work/manifest.json"
fi

python3 - "$work" <<PY
import json, sys
work = sys.argv[1]
load = json.loads(open(work + "/load.json").read().strip().splitlines()[-1])
manifest = json.load(open(work + "/manifest.json"))
print(json.dumps({
    "clients": $clients, "audit_events": $events, "database_bytes": $db_bytes,
    "backup_ms": $backup_ms, "backup_bytes": $backup_bytes,
    "backup_entries": len(manifest["entries"]),
    "server_rss_before_backup_kb": $rss_before_kb, "server_peak_rss_kb": $hwm_kb,
    "checkin_during_run": load,
}, indent=1))
PY
