#!/usr/bin/env bash
# Builds Sluice with clang under sanitizers and runs the tests there. Exit status 0 = all passed.
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer: the unit and
#                              integration tests (real sluiced processes, sanitized too) in
#                              build-fuzz/, the build the libFuzzer targets share
#   scripts/sanitize.sh tsan   ThreadSanitizer: the unit tests of the broker, the client
#                              libraries and the I/O backends, and the integration tests where
#                              clients and shards run concurrently (real sluiced processes,
#                              sanitized too), in build-tsan/
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
    # Third-party leaks only (fontconfig under `sluice perf --plot`); see the file.
    export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    # The crash tests SIGKILL appenders in a loop: they test the kernel's page cache, not our
    # memory handling, and under ASan they take longer than the rest together.
    (cd build-fuzz && ctest --output-on-failure -j "$jobs" -LE crash --timeout 600)
    ;;
  tsan)
    configure_tsan_build
    cmake --build build-tsan -j "$jobs" --target sluiced sluice integration_test broker_test \
      producer_test consumer_test segment_io_test
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    # Threads meet in: the broker's shards (the in-flight budget, the topic registry, shutdown),
    # the client libraries (callers against the io thread) and the I/O backends (worker threads).
    for unit in broker_test producer_test consumer_test segment_io_test; do
      build-tsan/bin/$unit
    done
    build-tsan/bin/integration_test --source-file='*end_to_end_test.cc,*producer_test.cc,'\
'*consumer_test.cc,*broker_protocol_test.cc,*load_test.cc'
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan" >&2
    exit 2
    ;;
esac
