#!/usr/bin/env bash
# Side by side, in one run on one machine: sluiced against nginx (Debian's), both pinned to the
# same single core, on loopback, with the same certificate and TLS 1.3, driven by the same load
# tool (pinned to another core). Measures
#   1. check-ins per second: sluiced's real check-in (handshake + enroll-less check-in) against
#      nginx's handshake plus a tiny response, with full handshakes and with resumed sessions;
#   2. package streaming: sluiced streaming one package to N clients through the upgrade
#      protocol against nginx serving the same file over HTTPS to N parallel GETs;
#   3. each server's CPU-seconds per 1000 check-ins / requests (from /proc, same core, same
#      run): on 2 cores the load tool often caps the rates, so this is the server's own cost.
# Prints one JSON object with every figure and the ratios (sluiced / nginx).
#
# Usage: load/bench.sh [BUILD_BIN_DIR]   (default: build/bin; needs sluiced, sluice-load)
# Knobs (environment): SERVER_CPU=0 LOAD_CPU=1 CONCURRENCY=64 DURATION_S=10 STREAMS=4
#                      STREAM_MIB=256
set -euo pipefail

bin=$(cd "${1:-build/bin}" && pwd)
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
concurrency=${CONCURRENCY:-64}
duration=${DURATION_S:-10}
streams=${STREAMS:-4}
stream_mib=${STREAM_MIB:-256}

for tool in "$bin/sluiced" "$bin/sluice-load" nginx taskset python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/setup.sh and build)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/sluice-bench-XXXXXX)
chmod 755 "$work"  # nginx's workers (user nobody) must reach the files
nginx_pid=""
cleanup() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

load() { taskset -c "$load_cpu" "$bin/sluice-load" "$@" --json 2>>"$work/load.log"; }

# CPU seconds (user + system) of nginx's master and workers so far, from /proc.
nginx_cpu() {
  local ticks=0 pid
  for pid in "$nginx_pid" $(pgrep -P "$nginx_pid"); do
    [[ -r /proc/$pid/stat ]] || continue
    # Fields after the command name (which may hold spaces): utime is 14th, stime 15th overall.
    read -r -a f <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
    ticks=$((ticks + f[11] + f[12]))
  done
  python3 -c "print($ticks / $(getconf CLK_TCK))"
}

echo "bench: sluiced check-ins ($concurrency concurrent, ${duration}s per phase)" >&2
sluice_checkin=$(load checkin --clients "$concurrency" --duration-s "$duration" \
  --server-cpu "$server_cpu" --starts-per-s 0 --no-progress)

echo "bench: sluiced streaming ($streams x ${stream_mib} MiB)" >&2
sluice_stream=$(load rollout --clients "$streams" --limit "$streams" \
  --package-kib $((stream_mib * 1024)) --apply-ms 0 --rate-kib 0 --server-cpu "$server_cpu" \
  --starts-per-s 0 --no-progress)

# nginx gets the certificate of a sluiced data dir, and the same payload size.
"$bin/sluiced" --data-dir "$work/site" --listen 127.0.0.1:0 --log-level warn >"$work/sluiced.log" 2>&1 &
site_pid=$!
for _ in $(seq 100); do [[ -s "$work/site/run/endpoint" ]] && break; sleep 0.1; done
kill "$site_pid"; wait "$site_pid" 2>/dev/null || true
mkdir -p "$work/www" "$work/nginx"
chmod 755 "$work/www"
printf 'ok\n' >"$work/www/hello"
head -c $((stream_mib * 1048576)) /dev/zero | tr '\0' 'x' >"$work/www/package.bin"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
worker_cpu_affinity auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $work/site/tls/cert.pem;
    ssl_certificate_key $work/site/tls/key.pem;
    ssl_protocols TLSv1.3;
    ssl_session_tickets on;
    root $work/www;
    location = /hello { default_type text/plain; }
  }
}
CONF
taskset -c "$server_cpu" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

echo "bench: nginx handshakes" >&2
cpu0=$(nginx_cpu)
nginx_full=$(load raw-tls --target "127.0.0.1:$port" --path /hello --concurrency "$concurrency" \
  --duration-s "$duration")
cpu1=$(nginx_cpu)
nginx_resumed=$(load raw-tls --target "127.0.0.1:$port" --path /hello --concurrency "$concurrency" \
  --duration-s "$duration" --resume)
cpu2=$(nginx_cpu)
echo "bench: nginx streaming" >&2
nginx_stream=$(load raw-tls --target "127.0.0.1:$port" --path /package.bin \
  --concurrency "$streams" --requests "$streams")

python3 - "$sluice_checkin" "$sluice_stream" "$nginx_full" "$nginx_resumed" "$nginx_stream" \
  "$cpu0" "$cpu1" "$cpu2" <<'PY'
import json, os, platform, sys
sc, ss, nf, nr, ns = (json.loads(a) for a in sys.argv[1:6])
cpu0, cpu1, cpu2 = (float(a) for a in sys.argv[6:9])
def per_1000(cpu, n): return round(cpu / n * 1000, 4) if n else None
def ratio(a, b): return round(a / b, 3) if b else None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
out = {
  "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
  "checkins_per_s": {
    "sluiced_full": sc["full_handshake"]["checkins_per_s"],
    "nginx_full": nf["requests_per_s"],
    "ratio_full": ratio(sc["full_handshake"]["checkins_per_s"], nf["requests_per_s"]),
    "sluiced_resumed": sc["resumed"]["checkins_per_s"],
    "nginx_resumed": nr["requests_per_s"],
    "ratio_resumed": ratio(sc["resumed"]["checkins_per_s"], nr["requests_per_s"]),
    "nginx_resumed_share": nr["resumed_share"],
    "sluiced_resumed_share": sc["resumed"]["resumed_share"],
  },
  "cpu_s_per_1000": {
    "sluiced_full": round(sc["full_handshake"]["server_cpu_s_per_1000"], 4),
    "nginx_full": per_1000(cpu1 - cpu0, nf["responses"]),
    "sluiced_resumed": round(sc["resumed"]["server_cpu_s_per_1000"], 4),
    "nginx_resumed": per_1000(cpu2 - cpu1, nr["responses"]),
  },
  "streaming_mib_s": {
    "sluiced": ss["throughput_mib_s"],
    "nginx": ns["throughput_mib_s"],
    "ratio": ratio(ss["throughput_mib_s"], ns["throughput_mib_s"]),
  },
  "raw": {"sluiced_checkin": sc, "sluiced_stream": ss, "nginx_full": nf,
          "nginx_resumed": nr, "nginx_stream": ns},
}
c = out["cpu_s_per_1000"]
# Below 1: sluiced spends less CPU per request than nginx.
c["ratio_full"] = ratio(c["sluiced_full"], c["nginx_full"] or 0)
c["ratio_resumed"] = ratio(c["sluiced_resumed"], c["nginx_resumed"] or 0)
print(json.dumps(out, indent=2))
PY
