#!/usr/bin/env bash
# run_fuzz.sh TARGET SEED_DIR SECONDS [libFuzzer flags...]: runs one fuzz target for SECONDS
# from the seed corpus (read only: new inputs go to a temp dir), under ASan and UBSan that stop
# at the first error. A crash leaves its input in $PWD/crashes/ (name printed) and fails.
# Prints the executions and final coverage.
set -euo pipefail
target=$1 seeds=$2 seconds=$3
shift 3
work=$(mktemp -d /tmp/sluice-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" crashes
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
name=$(basename "$target")
if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
     -print_final_stats=1 -artifact_prefix="$PWD/crashes/$name-" "$@" \
     "$work/corpus" "$seeds" >"$work/log" 2>&1; then
  tail -n 60 "$work/log"
  echo "fuzz: $name FAILED; inputs: $(ls crashes/"$name"-* 2>/dev/null | tr '\n' ' ')" >&2
  exit 1
fi
grep -E "stat::number_of_executed_units|stat::peak_rss_mb|^Done" "$work/log" | sed "s/^/$name: /"
grep -E "(DONE|pulse|NEW).* ft: [0-9]+" "$work/log" | tail -n 1 | sed "s/^/$name: /" || true
