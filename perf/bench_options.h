#pragma once
// What the command line of sluice-bench asks for, parsed and range-checked in bench_main.cc.

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "segment/io/backend.h"
#include "segment/log_config.h"

namespace sluice::bench {

struct common_options {
  std::filesystem::path dir;  // parent of the scratch directory
  bool json = false;          // end with one JSON line
  io::backend_kind backend = io::backend_kind::automatic;
};

struct append_options {
  common_options common;
  std::size_t record_size = 1024;
  std::size_t batch_bytes = 65536;
  int appenders = 8;
  flush_policy flush;
  double seconds = 10;
  bool baseline = true;             // false: the log alone (for profiling); no ratio
  std::size_t syncs_in_flight = 1;  // partition_log::max_syncs_in_flight for the run
  // The log's shape: segment.bytes, and retention.bytes (-1: none) enforced every 100 ms, so a
  // run can measure a log at retention's steady state, as a broker's runs for days.
  std::uint64_t segment_mib = 1024;
  std::int64_t retention_mib = -1;
  bool recycle = true;        // partition_log::recycle_segments for the run
  double warmup_seconds = 0;  // appends before the timed window, not counted
};

struct recover_options {
  common_options common;
  std::uint64_t log_mib = 1024;
  std::uint64_t tail_mib = 16;
  bool cold = false;  // drop the log's clean pages from the page cache before each timed open
};

struct fsync_options {
  common_options common;
  std::size_t write_bytes = 1024;
  double seconds = 10;
  double rate = 0;  // appends per second; 0: back to back
};

}  // namespace sluice::bench
