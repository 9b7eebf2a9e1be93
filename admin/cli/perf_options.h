#pragma once
// The options of `sluice perf produce|consume|e2e` (like kafka-producer-perf-test and
// kafka-consumer-perf-test).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "admin/cli/client_options.h"
#include "admin/cli/perf_target.h"

namespace sluice::cli {

struct perf_options {
  std::string topic;
  std::size_t record_size = 100;
  std::uint64_t num_records = 0;  // 0: not given
  double duration_s = 0;          // 0: not given
  double throughput = -1;         // records/s; <= 0: unlimited
  producer_options producer;
  bool json = false;
  std::string plot;  // empty: no picture
  int report_interval_ms = 1000;
  int timeout_ms = 10'000;  // consume, e2e: give up after this long without a record
};

[[nodiscard]] inline perf_target target_of(const perf_options& o) {
  return {o.num_records, std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::duration<double>(o.duration_s))};
}

}  // namespace sluice::cli
