#!/usr/bin/env bash
# The adaptive limit against a sweep of fixed limits, on the same rollout: every run starts a
# fresh sluiced, upgrades the same fleet with the same package, apply time, per-client link
# rate and server bandwidth cap, while bystander clients check in all through it (the latency
# probe). Prints one JSON line per run (mode, limit, makespan, throughput, check-in p99, the
# adaptive limit's history), then a summary naming the best fixed limit and the adaptive
# run's makespan against it.
#
# Usage: load/adaptive_sweep.sh [BUILD_BIN_DIR]   (default: build/bin)
# Knobs (environment): CLIENTS=600 PACKAGE_KIB=1024 RATE_KIB=512 APPLY_MS=2000
#   BANDWIDTH_KIB=16384 LIMITS="16 32 64 128 256" ADAPTIVE=4:400 TARGET_MS=500 PROBE_PER_S=10
set -euo pipefail

bin=$(cd "${1:-build/bin}" && pwd)
clients=${CLIENTS:-600}
common=(--clients "$clients" --package-kib "${PACKAGE_KIB:-1024}" --rate-kib "${RATE_KIB:-512}"
        --apply-ms "${APPLY_MS:-2000}" --bandwidth-kib "${BANDWIDTH_KIB:-16384}"
        --probe-checkins-per-s "${PROBE_PER_S:-10}" --timeout-s 900 --json --no-progress)
target=${TARGET_MS:-500}
out=$(mktemp /tmp/sluice-sweep-XXXXXX.jsonl)
trap 'rm -f "$out"' EXIT

for limit in ${LIMITS:-16 32 64 128 256}; do
  "$bin/sluice-load" rollout "${common[@]}" --limit "$limit" | \
    python3 -c 'import json,sys; d=json.load(sys.stdin); d["mode"]="fixed"; print(json.dumps(d))' >>"$out"
  tail -n 1 "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("fixed %4d: makespan %.1f s, probe check-in p99 %.1f ms" % (d["limit"], d["makespan_s"], d["probe_checkin_p99_ms"]), file=sys.stderr)'
done
"$bin/sluice-load" rollout "${common[@]}" --adaptive "${ADAPTIVE:-4:400}" --checkin-target-ms "$target" | \
  python3 -c 'import json,sys; d=json.load(sys.stdin); d["mode"]="adaptive"; print(json.dumps(d))' >>"$out"

python3 - "$out" "$target" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
target = float(sys.argv[2])
keys = ["mode", "limit", "makespan_s", "throughput_mib_s", "probe_checkin_p50_ms",
        "probe_checkin_p99_ms", "probe_checkin_max_ms", "max_in_flight_audit", "limit_violations",
        "converged", "limit_history", "adaptive"]
for run in runs:
    print(json.dumps({k: run.get(k) for k in keys}))
fixed = [r for r in runs if r["mode"] == "fixed" and r["probe_checkin_p99_ms"] <= target]
adaptive = [r for r in runs if r["mode"] == "adaptive"][0]
summary = {"checkin_target_ms": target, "adaptive_makespan_s": adaptive["makespan_s"],
           "adaptive_checkin_p99_ms": adaptive["probe_checkin_p99_ms"]}
if fixed:
    best = min(fixed, key=lambda r: r["makespan_s"])
    summary.update(best_fixed_limit=best["limit"], best_fixed_makespan_s=best["makespan_s"],
                   adaptive_vs_best=adaptive["makespan_s"] / best["makespan_s"])
print(json.dumps({"summary": summary}))
PY
