#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite; then the same suites under
# sanitizers (scripts/sanitize.sh: ASan+UBSan, then TSan), then each fuzz target for
# FUZZ_SECONDS (default 30; 0 skips). SANITIZERS=0 skips the sanitizer runs. Extra args go to
# the first ctest. Exit status 0 = all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)" "$@")
if [ "${SANITIZERS:-1}" != 0 ]; then
  scripts/sanitize.sh asan
  scripts/sanitize.sh tsan
fi
fuzz_seconds=${FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" -gt 0 ]; then scripts/fuzz.sh "$fuzz_seconds"; fi
