// `sluice perf produce`: throughput and send-to-ack latency of the producer.

#include "admin/cli/interruptible_producer.h"
#include "admin/cli/perf_commands.h"
#include "admin/cli/perf_run.h"
#include "admin/cli/perf_send_loop.h"
#include "admin/cli/stop_signal.h"

namespace sluice::cli {

exit_code run_perf_produce(const command_context& ctx, const perf_options& o) {
  if (!target_of(o).bounded()) {
    return report_usage("perf produce: give --num-records N or --duration S");
  }
  install_stop_signals();
  if (auto d = describe_for_perf(ctx, o); !d.topic) return d.code;
  perf_stats acks;  // outlives the producer, whose callbacks write to it
  auto p = with_stop_signals_blocked(
      [&] { return producer::create(make_interruptible(make_producer_config(ctx, o.producer))); });
  if (!p) return report_usage(p.error().message());
  progress_reporter reporter(acks, "acked", human_out(o),
                             std::chrono::milliseconds(o.report_interval_ms));
  const auto sent = run_send_loop(**p, o, acks, false);
  (*p)->close();
  reporter.stop();
  const auto totals = acks.totals();
  const auto f = figures_of(totals, std::chrono::duration<double>(sent.elapsed).count(), "produce",
                            o.topic, "send-to-ack");
  return finish_perf(o, f, totals.latency, acks.first_error());
}

}  // namespace sluice::cli
