#!/usr/bin/env bash
# The main job until the broker exists: install, build, and run the append benchmark
# (1 KiB records, 64 KiB batches, 8 appenders, durable flush=always) on ./build/bench-data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/bin/sluice-bench append --record-size 1024 --batch-bytes 65536 --appenders 8 \
  --flush always --seconds 10 --dir build/bench-data "$@"
