# Sourced by the large-site benches (backup_bench.sh, pair_sync_bench.sh, dashboard_bench.sh).
# write_bench_site DB CLIENTS EVENTS: writes CLIENTS clients and EVENTS audit events (grants and
# finishes) straight into the site database DB, which a started-and-stopped sluiced made.
write_bench_site() {
  # Seen within the last 28 hours: offline, not lost, and not swept away as stale at start.
  local now_ms=$(($(date +%s) * 1000))
  sqlite3 "$1" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO clients (id, kind, mode, secret_hash, version, platform, first_seen_ms, last_seen_ms,
                     peer_address, console_user)
SELECT printf('bench-%07d', i), 'jump-client', CASE WHEN i % 3 = 0 THEN 'passive' ELSE 'active' END,
       lower(hex(randomblob(32))), '1.0.0', 'linux-x86_64', $now_ms - 86400000, $now_ms - i * 1000,
       '10.0.' || (i / 250 % 250) || '.' || (i % 250), 'user' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
INSERT INTO audit (wall_ms, mono_ms, event, scope, client_id, lease_id, version, detail, running,
                   limit_value)
SELECT 1764057600000 + i, i, CASE WHEN i % 2 = 1 THEN 'grant' ELSE 'finish' END, 'jump-client',
       printf('bench-%07d', (i + 1) / 2 % $2 + 1), (i + 1) / 2, '2.0.0',
       CASE WHEN i % 2 = 1 THEN '' ELSE 'ok' END, i % 2, 50 FROM n;
COMMIT;
SQL
}

# start_bench_server DATA LOG: sluiced (from $bin) on a free loopback port for data dir DATA,
# logging to LOG; sets server_pid and returns once DATA/run/endpoint is written.
start_bench_server() {
  rm -f "$1/run/endpoint"
  "$bin/sluiced" --data-dir "$1" --listen 127.0.0.1:0 >>"$2" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do [[ -s "$1/run/endpoint" ]] && return 0; sleep 0.1; done
  echo "$(basename "$0"): sluiced did not start" >&2; cat "$2" >&2; exit 1
}
stop_bench_server() { kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=; }
