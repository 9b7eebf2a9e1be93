#pragma once
// The figures `sluice perf` prints: a progress line per interval, the final summary, and the
// same figures as one JSON line (--json) for scripts.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "admin/cli/perf_stats.h"

namespace sluice::cli {

struct latency_figures {
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

struct perf_figures {
  std::string mode;  // "produce", "consume", "e2e"
  std::string topic;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t failed = 0;
  double seconds = 0;
  double records_per_sec = 0;
  double mib_per_sec = 0;    // MiB = 2^20 bytes of record values
  std::string latency_kind;  // "send-to-ack", "end-to-end"; empty: no latency measured
  std::optional<latency_figures> latency;
};

[[nodiscard]] perf_figures figures_of(const perf_counts& c, double seconds, std::string mode,
                                      std::string topic, std::string latency_kind);

// "  5000 records acked, 4998.1 rec/s (4.77 MiB/s), latency p50 1.20 ms p99 3.40 ms max 5.02 ms"
[[nodiscard]] std::string format_progress_line(std::string_view verb, const perf_counts& window,
                                               double window_seconds);
// Multi-line human summary.
[[nodiscard]] std::string format_summary(const perf_figures& f);
// One line: {"mode":..., "records_per_sec":..., "latency_p50_ms":..., ...} (latency fields null
// when none was measured).
[[nodiscard]] std::string format_figures_json(const perf_figures& f);

}  // namespace sluice::cli
