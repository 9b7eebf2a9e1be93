#include "admin/cli/perf_send_loop.h"

#include "admin/cli/interruptible_producer.h"
#include "admin/cli/perf_payload.h"
#include "admin/cli/perf_run.h"
#include "admin/cli/rate_limiter.h"
#include "admin/cli/stop_signal.h"
#include "admin/cli/tick_clock.h"

namespace sluice::cli {

namespace {

using clock = std::chrono::steady_clock;

// What every ack callback shares, so a callback captures only a pointer and its send time:
// 16 bytes fit in std::function without a heap allocation per record.
struct ack_sink {
  perf_stats& acks;
  std::uint64_t record_bytes;
};

// Unpaced, the target's duration is checked every this many records: reading the clock for
// each one cost the sending thread noticeably at millions of records a second. A paced run
// checks it after each wait instead, so `--duration 1 --throughput 10` sends 10 records in 1 s
// rather than 64 in 6.4 s.
constexpr std::uint64_t records_per_time_check = 64;

void send_one(producer& p, const producer_record& record, const ack_sink& sink,
              tick_clock::time_point sent_at) {
  auto r = send_unless_interrupted(p, record, [&] {
    return [sink = &sink, sent_at](const result<record_metadata>& md) {
      if (md) {
        sink->acks.on_record(sink->record_bytes, tick_clock::now() - sent_at);
      } else {
        sink->acks.on_failure(md.error());
      }
    };
  });
  if (!r) sink.acks.on_failure(r.error());
}

}  // namespace

send_loop_result run_send_loop(producer& p, const perf_options& o, perf_stats& acks, bool stamp) {
  (void)tick_clock::calibration();  // its 20 ms before the run, not in it
  const payload_source payload(o.record_size);
  const rate_limiter limiter(o.throughput);
  const perf_target target = target_of(o);
  const ack_sink sink{acks, o.record_size};
  producer_record record{.topic = o.topic, .value = std::string()};
  const auto start = clock::now();
  auto elapsed = clock::duration::zero();
  std::uint64_t n = 0;
  for (;; ++n) {
    if (n % records_per_time_check == 0) elapsed = clock::now() - start;
    if (stop_requested() || !target.more(n, elapsed)) break;
    if (!limiter.unlimited()) {
      pace(limiter, n, start);  // record n is due now: is the run over by then?
      elapsed = clock::now() - start;
      if (stop_requested() || !target.more(n, elapsed)) break;
    }
    payload.fill(n, *record.value);
    const auto sent_at = tick_clock::now();
    if (stamp) {
      stamp_send_time(
          *record.value,
          std::chrono::duration_cast<std::chrono::nanoseconds>(sent_at.time_since_epoch()).count());
    }
    send_one(p, record, sink, sent_at);
  }
  // Every callback has run when flush() returns, so `acks` is complete. When it fails, close()
  // fails what is pending and runs those callbacks now, while `sink` (which they point to) lives.
  if (auto flushed = flush_unless_interrupted(p); !flushed) {
    acks.on_failure(flushed.error());
    p.close(std::chrono::milliseconds(0));
  }
  return {n, clock::now() - start};
}

}  // namespace sluice::cli
