#pragma once
// When a `sluice perf` run stops.

#include <chrono>
#include <cstdint>

namespace sluice::cli {

// When a run stops: after num_records, after duration, whichever comes first (0: no limit).
struct perf_target {
  std::uint64_t num_records = 0;
  std::chrono::nanoseconds duration{0};

  [[nodiscard]] bool more(std::uint64_t done, std::chrono::nanoseconds elapsed) const {
    if (num_records != 0 && done >= num_records) return false;
    return duration.count() == 0 || elapsed < duration;
  }
  [[nodiscard]] bool bounded() const { return num_records != 0 || duration.count() != 0; }
};

}  // namespace sluice::cli
