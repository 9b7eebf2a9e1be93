// `sluice perf e2e`: end-to-end latency, from the moment a record is sent to the moment a
// consumer in the same process receives it. The producer stamps the steady clock into each
// value (perf_payload.h); the consumer, reading on its own thread from the high watermarks seen
// before the first send, subtracts that from the time it receives the record.

#include <fmt/format.h>

#include <atomic>
#include <thread>

#include "admin/cli/interruptible_producer.h"
#include "admin/cli/perf_commands.h"
#include "admin/cli/perf_payload.h"
#include "admin/cli/perf_run.h"
#include "admin/cli/perf_send_loop.h"
#include "admin/cli/stop_signal.h"
#include "admin/cli/tick_clock.h"
#include "consumer/consumer.h"

namespace sluice::cli {

namespace {

using clock = std::chrono::steady_clock;

// What the producing side tells the consuming side.
struct e2e_progress {
  std::atomic<bool> producer_done{false};
  std::atomic<std::uint64_t> acked{0};  // valid once producer_done
};

struct e2e_outcome {
  std::optional<error> failure;
  bool timed_out = false;
};

result<std::unique_ptr<consumer>> open_at_ends(const command_context& ctx,
                                               const topic_description& t) {
  auto c = with_stop_signals_blocked([&] { return consumer::create(make_consumer_config(ctx)); });
  if (!c) return c.error();
  std::vector<topic_partition> tps;
  for (const auto& p : t.partitions) tps.push_back({t.name, p.partition});
  if (auto r = (*c)->assign(tps); !r) return r.error();
  // Explicit offsets rather than seek_to_end: no record sent after this point can be missed.
  for (const auto& p : t.partitions) {
    if (auto r = (*c)->seek({t.name, p.partition}, p.high_watermark); !r) return r.error();
  }
  return c;
}

// Records one received record; values without a plausible stamp (another writer's) are
// counted but not timed.
void on_received(const consumer_record& r, std::int64_t run_start_ns, perf_stats& e2e) {
  const std::string_view value = r.value ? std::string_view(*r.value) : std::string_view();
  const auto now_ns = tick_clock::now().time_since_epoch();
  const auto sent_ns = read_send_time(value);
  std::optional<std::chrono::nanoseconds> latency;
  if (sent_ns && *sent_ns >= run_start_ns && *sent_ns <= now_ns.count()) {
    latency = now_ns - std::chrono::nanoseconds(*sent_ns);
  }
  e2e.on_record(value.size(), latency);
}

// The consuming thread's loop: until it has every acked record, a stop request, or
// --timeout-ms without a record once the producer is done.
e2e_outcome receive_all(consumer& c, const perf_options& o, const e2e_progress& progress,
                        perf_stats& e2e) {
  const auto run_start_ns = tick_clock::now().time_since_epoch().count();
  std::uint64_t received = 0;
  auto last_record = clock::now();
  while (!stop_requested()) {
    if (progress.producer_done && received >= progress.acked) return {};
    auto records = c.poll(std::chrono::milliseconds(100));
    if (!records) return {records.error(), false};
    for (const auto& r : *records) on_received(r, run_start_ns, e2e);
    received += records->size();
    if (!records->empty()) last_record = clock::now();
    if (progress.producer_done &&
        clock::now() - last_record > std::chrono::milliseconds(o.timeout_ms)) {
      return {std::nullopt, true};
    }
  }
  return {};
}

exit_code report_e2e(const perf_options& o, const perf_stats& acks, const perf_stats& e2e,
                     const e2e_outcome& outcome, std::chrono::nanoseconds elapsed) {
  if (outcome.failure) return report_failure("consume from " + o.topic, *outcome.failure);
  const auto totals = e2e.totals();
  auto f = figures_of(totals, std::chrono::duration<double>(elapsed).count(), "e2e", o.topic,
                      "end-to-end");
  const auto sent = acks.totals();
  f.failed = sent.failed;
  const auto code = finish_perf(o, f, totals.latency, acks.first_error());
  if (outcome.timed_out) {
    fmt::print(stderr, "sluice: perf e2e: {} records acked but {} received within {} ms\n",
               sent.records, totals.records, o.timeout_ms);
    return exit_code::failed;
  }
  return code;
}

}  // namespace

exit_code run_perf_e2e(const command_context& ctx, const perf_options& o) {
  if (!target_of(o).bounded()) {
    return report_usage("perf e2e: give --num-records N or --duration S");
  }
  install_stop_signals();
  auto d = describe_for_perf(ctx, o);
  if (!d.topic) return d.code;
  auto c = open_at_ends(ctx, *d.topic);
  if (!c) return report_failure("consume from " + o.topic, c.error());
  perf_stats acks;
  perf_stats e2e;
  e2e_progress progress;
  e2e_outcome outcome;
  auto p = with_stop_signals_blocked(
      [&] { return producer::create(make_interruptible(make_producer_config(ctx, o.producer))); });
  if (!p) return report_usage(p.error().message());
  progress_reporter reporter(e2e, "received", human_out(o),
                             std::chrono::milliseconds(o.report_interval_ms));
  const auto start = clock::now();
  std::thread receiver = with_stop_signals_blocked(
      [&] { return std::thread([&] { outcome = receive_all(**c, o, progress, e2e); }); });
  run_send_loop(**p, o, acks, true);
  progress.acked = acks.totals().records;
  progress.producer_done = true;
  receiver.join();
  const auto elapsed = clock::now() - start;
  reporter.stop();
  (*p)->close();
  (*c)->close();
  return report_e2e(o, acks, e2e, outcome, elapsed);
}

}  // namespace sluice::cli
