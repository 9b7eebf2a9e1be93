#include "admin/cli/perf_send_loop.h"

#include "admin/cli/perf_payload.h"
#include "admin/cli/perf_run.h"
#include "admin/cli/rate_limiter.h"
#include "admin/cli/stop_signal.h"

namespace sluice::cli {

namespace {

using clock = std::chrono::steady_clock;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

void send_one(producer& p, const std::string& topic, std::string value, perf_stats& acks) {
  const auto bytes = value.size();
  const auto sent_at = clock::now();
  producer_record record;
  record.topic = topic;
  record.value = std::move(value);
  auto r = p.send(std::move(record), [&acks, bytes, sent_at](result<record_metadata> md) {
    if (md) {
      acks.on_record(bytes, clock::now() - sent_at);
    } else {
      acks.on_failure(md.error());
    }
  });
  if (!r) acks.on_failure(r.error());
}

}  // namespace

send_loop_result run_send_loop(producer& p, const perf_options& o, perf_stats& acks, bool stamp) {
  const payload_source payload(o.record_size);
  const rate_limiter limiter(o.throughput);
  const perf_target target = target_of(o);
  const auto start = clock::now();
  std::uint64_t n = 0;
  for (; !stop_requested() && target.more(n, clock::now() - start); ++n) {
    pace(limiter, n, start);
    auto value = payload.value(n);
    if (stamp) stamp_send_time(value, steady_ns());
    send_one(p, o.topic, std::move(value), acks);
  }
  // Every callback has run when flush() returns, so `acks` is complete.
  if (auto flushed = p.flush(); !flushed) acks.on_failure(flushed.error());
  return {n, clock::now() - start};
}

}  // namespace sluice::cli
