#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: once as built for
# release, once under AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on any
# failure. SLUICE_SKIP_SANITIZE=1 runs only the first pass (quicker, for local iteration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

run_suite() {
  local build_dir=$1
  shift
  BUILD_DIR=$build_dir scripts/build.sh "$@"
  (cd "$build_dir" && ctest --output-on-failure --timeout 600 -j "$(nproc)")
}

# Line tables only (-g1): backtraces and sanitizer reports keep file:line, and the two builds,
# which are most of CI's time, compile about 15 % faster than with full debug info.
echo "== tests (RelWithDebInfo) =="
run_suite build "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
if [[ "${SLUICE_SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== tests (ASan + UBSan) =="
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DSLUICE_SANITIZE=ON
fi
