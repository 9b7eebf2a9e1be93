#!/usr/bin/env bash
# Builds Sluice with clang under sanitizers and runs the tests there. Exit status 0 = all passed.
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer: the unit and
#                              integration tests (real sluiced processes, sanitized too) in
#                              build-fuzz/, the build the libFuzzer targets share
#   scripts/sanitize.sh tsan   ThreadSanitizer: the broker's unit tests and the integration
#                              tests where clients and shards run concurrently, in build-tsan/
# Any sanitizer report fails the run: reports halt the process (halt_on_error), and a broker
# that dies that way fails the test that started it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/clang_builds.sh
jobs=$(nproc)

case "${1:-}" in
  asan)
    configure_asan_build
    cmake --build build-fuzz -j "$jobs"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    # The crash tests SIGKILL appenders in a loop: they test the kernel's page cache, not our
    # memory handling, and under ASan they take longer than the rest together.
    (cd build-fuzz && ctest --output-on-failure -j "$jobs" -LE crash --timeout 600)
    ;;
  tsan)
    configure_tsan_build
    cmake --build build-tsan -j "$jobs" --target sluiced sluice integration_test broker_test
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    build-tsan/bin/broker_test
    build-tsan/bin/integration_test \
      --source-file='*end_to_end_test.cc,*producer_test.cc,*consumer_test.cc,*broker_protocol_test.cc'
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan" >&2
    exit 2
    ;;
esac
