#pragma once
// What a `sluice perf` run counts, shared between the thread that sees outcomes (the
// producer's io thread for acks, the consuming thread for records) and the reporter thread
// that prints a progress line each interval. Thread-safe: one mutex, held for a few adds.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "admin/cli/latency_histogram.h"
#include "protocol/result.h"

namespace sluice::cli {

struct perf_counts {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t failed = 0;
  latency_histogram latency;  // empty when the run measures no latency
};

class perf_stats {
 public:
  // A record delivered (acked, or consumed), with its latency when the run measures one.
  void on_record(std::uint64_t bytes, std::optional<std::chrono::nanoseconds> latency);
  void on_failure(const error& e);

  // What happened since the previous call (or the start).
  [[nodiscard]] perf_counts take_window();
  [[nodiscard]] perf_counts totals() const;
  [[nodiscard]] std::optional<error> first_error() const;

 private:
  mutable std::mutex mu_;
  perf_counts window_;
  perf_counts total_;  // up to the last take_window(): totals() adds the window
  std::optional<error> first_error_;
};

}  // namespace sluice::cli
