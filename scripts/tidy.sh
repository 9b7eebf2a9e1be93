#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over the libraries' and tools' sources, using the
# compile commands of build-tidy/: a configuration without unity builds (whose compile commands
# name the batches, not the files) where only the flatc-generated headers are built. Not part of
# scripts/test.sh: on two cores it takes about 12 minutes. Prints each warning once; exit status
# 1 when there is any.
#   scripts/tidy.sh [FILE...]   (default: every tracked .cc outside tests/ and perf/)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-tidy -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=OFF >/dev/null
cmake --build build-tidy --target sluice_wire_schema sluice_broker_metadata_schema >/dev/null
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files '*.cc' | grep -v '^tests/\|^perf/'); fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run-clang-tidy -p build-tidy -j "$(nproc)" -quiet -extra-arg=-Wno-unknown-warning-option \
  "${files[@]/#/$PWD/}" >"$out" 2>&1 || true
warnings=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^/[^:]+:[0-9]+:[0-9]+: (warning|error):' | sort -u || true)
if [ -z "$warnings" ]; then echo "clang-tidy: no warnings in ${#files[@]} files"; exit 0; fi
echo "$warnings" | sed "s|^$PWD/||"
echo "clang-tidy: $(echo "$warnings" | wc -l) warnings"
exit 1
