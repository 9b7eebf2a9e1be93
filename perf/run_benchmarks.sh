#!/usr/bin/env bash
# Runs the benchmarks behind perf/RESULTS.md: the issue's target configurations, each append
# configuration three times (the disk is noisy), with a pause between runs so that one run's
# writeback and file deletion do not bleed into the next.
#   perf/run_benchmarks.sh [path/to/sluice-bench] > results.txt     (PAUSE=seconds, default 30)
set -euo pipefail
bench=${1:-build-bench/bin/sluice-bench}
pause=${PAUSE:-30}

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc: $(nproc); kernel: $(uname -r)"
df -h .
findmnt -no FSTYPE,OPTIONS -T . || true

run() {
  echo
  echo "\$ $*"
  echo "(load average before the run: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$@" 2>/dev/null
  sleep "$pause"
}

for flush in always interval:100; do
  for _ in 1 2 3; do
    run "$bench" append --record-size 1024 --batch-bytes 65536 --appenders 8 --flush "$flush" \
      --seconds 10 --json
  done
done
# The same log at retention's steady state (128 MiB segments, 256 MiB retained, 3 s of appends
# first), its new segments written over the deleted ones or not (perf/RESULTS.md, "Recycled
# segment files").
for appenders in 8 16; do
  for recycle in "" --no-recycle; do
    run "$bench" append --record-size 1024 --batch-bytes 65536 --appenders "$appenders" \
      --flush always --seconds 10 --segment-mib 128 --retention-mib 256 --warmup-seconds 3 \
      $recycle --json
  done
done
for cold in "" --cold; do
  for sizes in "1024 16" "256 16" "1024 64"; do
    read -r log tail <<<"$sizes"
    run "$bench" recover --log-mib "$log" --tail-mib "$tail" $cold --json
  done
done
