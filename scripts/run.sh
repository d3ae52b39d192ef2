#!/usr/bin/env bash
# Installs what is missing, builds, and runs sluiced on its embedded defaults: data in
# ./sluice-data (certificate, keys and SQLite database created on first start), clients served
# on 0.0.0.0:443. Extra arguments go to sluiced, e.g. --listen 127.0.0.1:4433.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/bin/sluiced --data-dir sluice-data "$@"
