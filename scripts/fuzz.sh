#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/, then runs each for SECONDS on its committed seed
# corpus. New inputs go to a scratch directory; the committed corpus is not changed. Exits 1 when
# a target crashes, leaks, trips a sanitizer or times out: the input that did it is left as
# build-fuzz/crash-<target>-* (make it a regression test, see tests/fuzz/README.md).
#   scripts/fuzz.sh [SECONDS]       (default 30 per target)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
source scripts/lib/clang_builds.sh
configure_asan_build
targets=(record_batch frame segment_recovery index_loading)
cmake --build build-fuzz --target "${targets[@]/#/fuzz_}"
status=0
for target in "${targets[@]}"; do
  scratch=$(mktemp -d)
  log=build-fuzz/fuzz_${target}.log
  if build-fuzz/bin/fuzz_${target} -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/crash-${target}-" \
    "$scratch" "tests/fuzz/corpus/${target}" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 40 "$log"
  fi
  rm -rf "$scratch"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  echo "fuzz_${target}: ${result}: ${execs:-?} executions in ${secs} s, coverage ${cov:-?} edges"
done
exit $status
