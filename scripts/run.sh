#!/usr/bin/env bash
# The main job: install what is missing, build, and start a single-node broker on
# 127.0.0.1:9190 with its data in ./data (SLUICE_DATA_DIR overrides). Extra arguments go to
# sluiced (see build/bin/sluiced --help). Stop it with Ctrl-C: it shuts down cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/bin/sluiced --data-dir "${SLUICE_DATA_DIR:-data}" --host 127.0.0.1 --port 9190 "$@"
