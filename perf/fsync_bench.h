#pragma once
// `sluice-bench fsync`: the disk's own latency for a durable small append — pwrite of
// --write-bytes at the end of a file, then fdatasync — one after another for --seconds (or at
// --rate appends/s). The broker's ack latency at a fixed rate is judged against its p99.

#include "perf/bench_options.h"

namespace sluice::bench {

// Returns the process exit code: 0, or 1 after printing why the run failed.
int run_fsync_bench(const fsync_options& opts);

}  // namespace sluice::bench
