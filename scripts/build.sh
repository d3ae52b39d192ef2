#!/usr/bin/env bash
# Configures and builds Sluice into BUILD_DIR (default: build). Extra arguments go to CMake.
#   scripts/build.sh                      release-with-debug-info build in ./build
#   BUILD_DIR=build-asan scripts/build.sh -DSLUICE_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
