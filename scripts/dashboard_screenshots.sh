#!/usr/bin/env bash
# Regenerates the dashboard screenshots in docs/img/ (dashboard-overview.png,
# dashboard-rollout.png) by running the browser test with SLUICE_SCREENSHOT_DIR set: the pictures
# are of a real sluiced with a simulated fleet mid-rollout, taken by headless Chromium.
#   scripts/dashboard_screenshots.sh [BUILD_BIN_DIR]   (default: build/bin; build first)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/bin}
[[ -x "$bin/sluiced" && -x "$bin/sluice-load" ]] || {
  echo "dashboard_screenshots: no sluiced or sluice-load in $bin (build first: scripts/build.sh)" >&2
  exit 2
}
scripts/setup.sh
mkdir -p docs/img
SLUICE_SCREENSHOT_DIR="$PWD/docs/img" /usr/bin/python3 tests/browser/dashboard_test.py --bin-dir "$bin"
ls -l docs/img/dashboard-overview.png docs/img/dashboard-rollout.png
