// `sluice perf consume`: how fast the consumer reads a topic from the beginning.

#include <fmt/format.h>

#include <map>

#include "admin/cli/perf_commands.h"
#include "admin/cli/perf_run.h"
#include "admin/cli/stop_signal.h"
#include "consumer/consumer.h"

namespace sluice::cli {

namespace {

using clock = std::chrono::steady_clock;

struct consume_scope {
  std::vector<topic_partition> partitions;
  std::map<std::int32_t, std::int64_t> ends;  // high watermarks at the start
};

consume_scope scope_of(const topic_description& t) {
  consume_scope s;
  for (const auto& p : t.partitions) {
    s.partitions.push_back({t.name, p.partition});
    s.ends[p.partition] = p.high_watermark;
  }
  return s;
}

bool reached_ends(const consumer& c, const consume_scope& s) {
  for (const auto& tp : s.partitions) {
    auto pos = c.position(tp);
    if (!pos || *pos < s.ends.at(tp.partition)) return false;
  }
  return true;
}

result<std::unique_ptr<consumer>> open_from_beginning(const command_context& ctx,
                                                      const consume_scope& s) {
  auto config = make_consumer_config(ctx);
  config.auto_offset_reset = consumer_config::offset_reset::earliest;
  auto c = with_stop_signals_blocked([&] { return consumer::create(config); });
  if (!c) return c.error();
  if (auto r = (*c)->assign(s.partitions); !r) return r.error();
  if (auto r = (*c)->seek_to_beginning(s.partitions); !r) return r.error();
  return c;
}

// Reads until the target, or without one the ends at the start; false after --timeout-ms
// without a record.
result<bool> consume_all(consumer& c, const perf_options& o, const consume_scope& s,
                         perf_stats& stats) {
  const perf_target target = target_of(o);
  const auto start = clock::now();
  auto last_record = start;
  for (std::uint64_t n = 0; !stop_requested() && target.more(n, clock::now() - start);) {
    if (!target.bounded() && reached_ends(c, s)) break;
    auto records = c.poll(std::chrono::milliseconds(100));
    if (!records) return records.error();
    for (const auto& r : *records) {
      if (!target.more(n, std::chrono::nanoseconds(0))) break;  // --num-records is exact
      stats.on_record(r.value ? r.value->size() : 0, std::nullopt);
      ++n;
    }
    if (!records->empty()) last_record = clock::now();
    if (clock::now() - last_record > std::chrono::milliseconds(o.timeout_ms)) return false;
  }
  return true;
}

}  // namespace

exit_code run_perf_consume(const command_context& ctx, const perf_options& o) {
  install_stop_signals();
  auto d = describe_for_perf(ctx, o);
  if (!d.topic) return d.code;
  const auto scope = scope_of(*d.topic);
  auto c = open_from_beginning(ctx, scope);
  if (!c) return report_failure("consume from " + o.topic, c.error());
  perf_stats stats;
  progress_reporter reporter(stats, "consumed", human_out(o),
                             std::chrono::milliseconds(o.report_interval_ms));
  const auto start = clock::now();
  auto completed = consume_all(**c, o, scope, stats);
  const std::chrono::duration<double> took = clock::now() - start;
  reporter.stop();
  (*c)->close();
  if (!completed) return report_failure("consume from " + o.topic, completed.error());
  const auto f = figures_of(stats.totals(), took.count(), "consume", o.topic, "");
  const auto code = finish_perf(o, f, latency_histogram{}, std::nullopt);
  if (!*completed) {
    fmt::print(stderr, "sluice: perf consume: no record for {} ms, stopped before the target\n",
               o.timeout_ms);
    return exit_code::failed;
  }
  return code;
}

}  // namespace sluice::cli
