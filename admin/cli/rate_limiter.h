#pragma once
// Paces `sluice perf` sends to a target rate (--throughput, records per second) the way
// kafka-producer-perf-test does: the n-th record may go at start + n / rate, so a stall is
// caught up at full speed afterwards rather than lost, and the average stays on target.
//
// Pure arithmetic over the elapsed time the caller measures, so tests need no clock.

#include <chrono>
#include <cstdint>

namespace sluice::cli {

class rate_limiter {
 public:
  // per_second <= 0: unlimited.
  explicit rate_limiter(double per_second) : per_second_(per_second) {}

  [[nodiscard]] bool unlimited() const { return per_second_ <= 0; }

  // How long to wait before sending record number `sent` (0-based) when `elapsed` has passed
  // since the start; zero when it may go now.
  [[nodiscard]] std::chrono::nanoseconds delay_before(std::uint64_t sent,
                                                      std::chrono::nanoseconds elapsed) const;

 private:
  double per_second_;
};

}  // namespace sluice::cli
