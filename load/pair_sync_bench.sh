#!/usr/bin/env bash
# Measures a failover pair's sync of a large site while the primary serves check-ins: a primary
# data dir with CLIENTS clients and EVENTS audit events (written straight into SQLite), an empty
# backup, the pair established, a `sluice-load checkin` run attached to the primary, and
# `sluicectl pair sync-now` in the middle of that run. Prints one JSON object: the sync's wall
# time (until staged, and until the backup applied it), its bytes, and the check-in figures of
# the run (which include the sync's seconds). Loopback only; every phase is bounded.
#
# Usage: load/pair_sync_bench.sh [BUILD_BIN_DIR] (default build/bin)
# Knobs (environment): CLIENTS=100000 EVENTS=1000000 LOAD_CLIENTS=500 LOAD_S=40
#                      SYNC=0 runs the same load without the sync (the baseline)
set -euo pipefail

bin=$(cd "${1:-build/bin}" && pwd)
clients=${CLIENTS:-100000}
events=${EVENTS:-1000000}
load_clients=${LOAD_CLIENTS:-500}
load_s=${LOAD_S:-40}
for tool in "$bin/sluiced" "$bin/sluicectl" "$bin/sluice-load" sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "pair_sync_bench: $tool not found" >&2; exit 2; }
done

# shellcheck source=load/bench_site.sh
source "$(dirname "$0")/bench_site.sh"

work=$(mktemp -d /tmp/sluice-pair-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME: sluiced on a free port; waits for run/endpoint. No automatic first sync:
# the one measured is the sync-now below.
start_server() {
  local data=$work/$1
  rm -f "$data/run/endpoint"
  "$bin/sluiced" --data-dir "$data" --listen 127.0.0.1:0 --pair-first-sync-s 3600 \
    >>"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do [[ -s "$data/run/endpoint" ]] && return 0; sleep 0.1; done
  echo "pair_sync_bench: sluiced $1 did not start" >&2; cat "$work/$1.log" >&2; exit 1
}

# 1. The primary's site: schema, then the fleet and its history straight into SQLite.
start_server a
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true; pids=()
write_bench_site "$work/a/db/sluice.db" "$clients" "$events"
db_bytes=$(stat -c %s "$work/a/db/sluice.db")

# 2. Both servers, the pair, and the primary's check-in run with a sync in its middle.
start_server a
start_server b
# The site's shared address is the primary's 127.0.0.1:PORT (what load clients dial); the pair
# uses "localhost:PORT" for it, which the establish check tells apart.
a_at=localhost:$(cut -d: -f2 "$work/a/run/endpoint")
b_at=$(cat "$work/b/run/endpoint")
head -c 32 /dev/urandom | base64 >"$work/psk"
for side in a b; do
  "$bin/sluicectl" --data-dir "$work/$side" pair set-key --psk-file "$work/psk" >/dev/null
done
"$bin/sluicectl" --data-dir "$work/a" pair establish --peer "$b_at" --reverse "$a_at" >/dev/null
for _ in $(seq 1 100); do
  "$bin/sluicectl" --data-dir "$work/b" pair status --json 2>/dev/null \
    | grep -q '"role": "backup"' && break
  sleep 0.1
done

"$bin/sluice-load" checkin --attach "$work/a" --clients "$load_clients" --duration-s "$load_s" \
  --timeout-s $((load_s * 4)) --json --no-progress >"$work/load.json" 2>"$work/load.log" &
load_pid=$!
sleep $((load_s / 4))
staged_ms=0 applied_ms=0 sync_json='{}'
if [[ "${SYNC:-1}" != 0 ]]; then
  start_ns=$(date +%s%N)
  sync_json=$("$bin/sluicectl" --data-dir "$work/a" --timeout 0 pair sync-now --json)
  staged_ms=$((($(date +%s%N) - start_ns) / 1000000))
  for _ in $(seq 1 600); do
    "$bin/sluicectl" --data-dir "$work/b" pair status --json 2>/dev/null \
      | grep -q '"last_sync": {' && break
    sleep 0.05
  done
  applied_ms=$((($(date +%s%N) - start_ns) / 1000000))
fi
wait "$load_pid" || { cat "$work/load.log" >&2; exit 1; }

python3 - "$work" "$sync_json" <<PY
import json, sys
work, sync = sys.argv[1], json.loads(sys.argv[2])
load = json.loads(open(work + "/load.json").read().strip().splitlines()[-1])
print(json.dumps({
    "clients": $clients, "audit_events": $events, "database_bytes": $db_bytes,
    "sync_staged_ms": $staged_ms, "sync_applied_ms": $applied_ms,
    "sync_bytes": sync.get("bytes", 0), "sync_duration_ms": sync.get("duration_ms", 0),
    "checkin_during_run": load,
}, indent=1))
PY
