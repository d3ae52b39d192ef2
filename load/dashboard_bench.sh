#!/usr/bin/env bash
# Measures whether dashboard users disturb the client protocol: a site of CLIENTS clients
# (written straight into SQLite), then `sluice-load checkin` against it twice, alone and with
# USERS dashboard users (load/dashboard_users.py: each logged in, the live feed open, polling
# the overview and rollout pages every second, searching clients every ten). Prints one JSON
# object with both check-in runs (as the load clients saw them, and server-side from the
# metrics) and the dashboard's own figures. Loopback only; every phase is bounded.
#
# Usage: load/dashboard_bench.sh [BUILD_BIN_DIR] (default build/bin)
# Knobs (environment): CLIENTS=100000 USERS=50 LOAD_CLIENTS=500 LOAD_S=30
#   PAUSE_MS=0     each load client's pause between check-ins; 0 saturates the server, N gives
#                  a paced load of about LOAD_CLIENTS * 1000 / N check-ins a second
#   SERVER_CPUS=   pin sluiced (every thread) to these CPUs and the load tools and the
#                  dashboard users to the others (taskset lists, e.g. 1 on a 2-core box), so
#                  that what the server does is not mixed with what simulating its users costs
set -euo pipefail

bin=$(cd "${1:-build/bin}" && pwd)
clients=${CLIENTS:-100000}
users=${USERS:-50}
load_clients=${LOAD_CLIENTS:-500}
load_s=${LOAD_S:-30}
pause_ms=${PAUSE_MS:-0}
server_cpus=${SERVER_CPUS:-}
here=$(cd "$(dirname "$0")" && pwd)
for tool in "$bin/sluiced" "$bin/sluicectl" "$bin/sluice-load" sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "dashboard_bench: $tool not found" >&2; exit 2; }
done
# shellcheck source=load/bench_site.sh
source "$here/bench_site.sh"

work=$(mktemp -d /tmp/sluice-dashboard-bench-XXXXXX)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

start_bench_server "$work/site" "$work/sluiced.log"
stop_bench_server
write_bench_site "$work/site/db/sluice.db" "$clients" 0
start_bench_server "$work/site" "$work/sluiced.log"
# The load side runs under $pin_load: on the CPUs sluiced is not pinned to, if it is.
pin_load=()
if [[ -n "$server_cpus" ]]; then
  taskset -a -p -c "$server_cpus" "$server_pid" >/dev/null
  load_cpus=$(python3 -c "import os, sys
server = set()
for part in sys.argv[1].split(','):
    a, _, b = part.partition('-')
    server.update(range(int(a), int(b or a) + 1))
rest = sorted(os.sched_getaffinity(0) - server)
print(','.join(map(str, rest)))" "$server_cpus")
  [[ -n "$load_cpus" ]] || { echo "dashboard_bench: no CPU left for the load tools" >&2; exit 2; }
  pin_load=(taskset -c "$load_cpus")
fi
port=$(cut -d: -f2 "$work/site/run/endpoint")
password=$(head -c 24 /dev/urandom | base64)
printf '%s\n' "$password" >"$work/password"
"$bin/sluicectl" --data-dir "$work/site" admin add bench --password-file "$work/password" >/dev/null
token=$("$bin/sluicectl" --data-dir "$work/site" metrics token 2>/dev/null)

# CPU seconds (user + system) process $1 has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

scrape() { python3 "$here/scrape_checkin_histogram.py" "$port" "$token"; }

# One check-in run; prints its JSON with the server's CPU seconds during it and its server-side
# check-in latency (sluice_checkin_duration_seconds: from the frame to the answer, which no
# load client's own scheduling delays) added.
checkin_run() {
  local before after histogram_before histogram_after
  before=$(cpu_s "$server_pid")
  histogram_before=$(scrape)
  "${pin_load[@]}" "$bin/sluice-load" checkin --attach "$work/site" --clients "$load_clients" \
    --duration-s "$load_s" --pause-ms "$pause_ms" --timeout-s $((load_s * 4)) --json \
    --no-progress 2>"$work/load.log" \
    | tail -n 1 >"$work/run.json"
  after=$(cpu_s "$server_pid")
  histogram_after=$(scrape)
  python3 - "$work/run.json" "$(python3 "$here/scrape_checkin_histogram.py" \
    "$histogram_before" "$histogram_after")" "$after" "$before" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
run["server_side"] = json.loads(sys.argv[2])
run["sluiced_cpu_s"] = round(float(sys.argv[3]) - float(sys.argv[4]), 2)
print(json.dumps(run))
PY
}

alone=$(checkin_run)
"${pin_load[@]}" python3 "$here/dashboard_users.py" "$port" bench "$password" "$users" $((load_s * 2 + 15)) \
  >"$work/users.json" &
users_pid=$!
sleep 10  # every user logged in and polling
with_users=$(checkin_run)
wait "$users_pid"

python3 - "$alone" "$with_users" "$(cat "$work/users.json")" <<PY
import json, sys
print(json.dumps({"clients": $clients, "dashboard_users": $users, "pause_ms": $pause_ms,
                  "server_cpus": "$server_cpus",
                  "checkin_alone": json.loads(sys.argv[1]),
                  "checkin_with_dashboard_users": json.loads(sys.argv[2]),
                  "dashboard": json.loads(sys.argv[3])}, indent=1))
PY
