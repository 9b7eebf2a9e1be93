#pragma once
// `sluice-bench append`: closed-loop appenders on one shard against one partition log for a
// fixed time, compared with the disk's sequential-write limit measured before and after on the
// same filesystem. Prints a table (and a JSON line with --json) on stdout, progress on stderr.

#include "perf/bench_options.h"

namespace sluice::bench {

// Returns the process exit code: 0, or 1 after printing why the run failed.
int run_append_bench(const append_options& opts);

}  // namespace sluice::bench
