#pragma once
// What the three `sluice perf` runs share: pacing to --throughput, the topic check before starting,
// and the final report (summary,
// --json line, --plot picture, exit code).

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include "admin/admin.h"
#include "admin/cli/command_context.h"
#include "admin/cli/perf_options.h"
#include "admin/cli/perf_report.h"
#include "admin/cli/perf_stats.h"
#include "admin/cli/progress_reporter.h"
#include "admin/cli/rate_limiter.h"

namespace sluice::cli {

// Sleeps until record `n` is due under `limiter` (counting from `start`), in slices so a stop
// request is seen within 100 ms.
void pace(const rate_limiter& limiter, std::uint64_t n,
          std::chrono::steady_clock::time_point start);

// Where human-readable lines go: stderr with --json, so stdout holds only the JSON line.
[[nodiscard]] inline std::FILE* human_out(const perf_options& o) {
  return o.json ? stderr : stdout;
}

// The topic's description, or the error already reported (with its exit code).
struct described_topic {
  std::optional<topic_description> topic;
  exit_code code = exit_code::ok;
};
[[nodiscard]] described_topic describe_for_perf(const command_context& ctx, const perf_options& o);

// Prints the summary, the JSON line and the plot; exit 1 if records failed (naming the first
// error) or the plot could not be written.
exit_code finish_perf(const perf_options& o, const perf_figures& f, const latency_histogram& h,
                      const std::optional<error>& first_error);

}  // namespace sluice::cli
