# Configures the clang builds under sanitizers; sourced by scripts/fuzz.sh and scripts/sanitize.sh
# so both use one build-fuzz/ (tests and fuzz targets compiled once).

# -O1 and line tables only: what the sanitizers' reports need (symbolized stacks), a fifth less
# compile time than -O2 -g; the sanitizers' docs recommend -O1 or more for speed at run time.
# Benchmarks (perf/) are left out: no test runs them.
sanitizer_build_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BENCHMARKS=OFF
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG")

# -fno-sanitize=function: clang 14's UBSan check fails to compile C++20 coroutines ("Cannot
# represent a difference across sections"), and the protocol library has some.
# -DSLUICE_FUZZ=ON: the libFuzzer targets, and libFuzzer's coverage instrumentation
# (fuzzer-no-link) in the libraries they fuzz (CMakeLists.txt), not in the rest.
configure_asan_build() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja "${sanitizer_build_flags[@]}" \
    -DSLUICE_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=all" \
    >build-fuzz.configure.log 2>&1 || { cat build-fuzz.configure.log; return 1; }
  rm -f build-fuzz.configure.log
}

configure_tsan_build() {
  CC=clang CXX=clang++ cmake -S . -B build-tsan -G Ninja "${sanitizer_build_flags[@]}" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" \
    >build-tsan.configure.log 2>&1 || { cat build-tsan.configure.log; return 1; }
  rm -f build-tsan.configure.log
}
