#pragma once
// `sluice-bench recover`: how long partition_log::open takes after a clean close and after a
// crash that left a tail past the last checkpoint. Prints a table (and a JSON line with --json)
// on stdout, progress on stderr.

#include "perf/bench_options.h"

namespace sluice::bench {

// Returns the process exit code: 0, or 1 after printing why the run failed.
int run_recover_bench(const recover_options& opts);

}  // namespace sluice::bench
