#include "admin/cli/perf_run.h"

#include <fmt/format.h>

#include <algorithm>

#include "admin/cli/client_options.h"
#include "admin/cli/histogram_plot.h"
#include "admin/cli/standard_streams.h"
#include "admin/cli/stop_signal.h"

namespace sluice::cli {

void pace(const rate_limiter& limiter, std::uint64_t n,
          std::chrono::steady_clock::time_point start) {
  constexpr auto slice = std::chrono::milliseconds(100);
  if (limiter.unlimited()) return;
  for (;;) {
    const auto wait = limiter.delay_before(n, std::chrono::steady_clock::now() - start);
    if (wait.count() == 0 || stop_requested()) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(wait, slice));
  }
}

described_topic describe_for_perf(const command_context& ctx, const perf_options& o) {
  auto a = with_stop_signals_blocked([&] { return admin::create(make_admin_config(ctx)); });
  if (!a) return {std::nullopt, report_failure("connect to " + ctx.brokers, a.error())};
  auto t = (*a)->describe_topic(o.topic);
  if (!t) return {std::nullopt, report_failure("perf on topic " + o.topic, t.error())};
  return {std::move(*t), exit_code::ok};
}

exit_code finish_perf(const perf_options& o, const perf_figures& f, const latency_histogram& h,
                      const std::optional<error>& first_error) {
  fmt::print(human_out(o), "{}", format_summary(f));
  if (o.json) fmt::print("{}\n", format_figures_json(f));
  flush_output(stdout);  // keeps errno for check_stdout; fflush alone would lose it
  exit_code code = exit_code::ok;
  if (!o.plot.empty()) {
    const auto title =
        fmt::format("sluice perf {}: {} latency, {} records", f.mode, f.latency_kind, h.count());
    if (auto plotted = plot_latency_histogram(h, o.plot, title); !plotted) {
      code = report_failure("plot", plotted.error());
    } else {
      fmt::print(human_out(o), "latency histogram written to {}\n", o.plot);
    }
  }
  if (f.failed > 0 && first_error) {
    return report_failure(fmt::format("{} of {} records failed", f.failed, f.failed + f.records),
                          *first_error);
  }
  return code;
}

}  // namespace sluice::cli
