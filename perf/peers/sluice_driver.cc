// sluice-compare-sluice: Sluice through its producer library, for what `sluice perf produce`
// cannot do: records with keys (perf produce sends keyless records, which the producer's sticky
// partitioner spreads one batch per partition at a time).
//
//   produce --port P --topic T --record-size B (--seconds S | --count N) --keys K
//       one producer, the key of record n is "k<n mod K>" (murmur2 picks the partition, as
//       Kafka), with the settings of perf/compare's throughput runs: acks 1, linger 5 ms,
//       200 KiB batches, no compression, idempotence on, 5 requests in flight.
//
// One JSON line (driver_common.h); latency from send() to the acknowledgement callback.

#include <mutex>

#include "perf/peers/driver_common.h"
#include "producer/producer.h"

namespace sluice::compare {
namespace {

int produce(const options& o) {
  producer_config config;
  config.brokers = fmt::format("127.0.0.1:{}", static_cast<int>(o.num("port", 9190)));
  config.acks = 1;
  config.linger = std::chrono::milliseconds(5);
  config.batch_size = 200 * 1024;
  config.max_in_flight = 5;  // 5 x 200 KiB: the peers' 1 MiB window
  config.codec = compression::none;
  auto p = producer::create(config);
  if (!p) throw std::runtime_error("producer: " + p.error().message());

  const std::string topic = o.str("topic", "bench");
  const auto record_size = static_cast<std::size_t>(o.num("record-size", 1024));
  const auto keys = static_cast<std::uint64_t>(o.num("keys", 1000));
  const target t{static_cast<std::uint64_t>(o.num("count", 0)), o.num("seconds", 0)};
  const cli::payload_source payload(record_size);
  ack_state st;

  const auto start = clock::now();
  for (std::uint64_t n = 0; t.more(n, clock::now() - start); ++n) {
    const auto sent_at = clock::now();
    producer_record r;
    r.topic = topic;
    r.key = fmt::format("k{}", n % keys);
    r.value = payload.value(n);
    auto queued =
        (*p)->send(std::move(r), [&st, record_size, sent_at](const result<record_metadata>& md) {
          std::lock_guard lock(st.mutex);
          if (md) {
            st.latency.record(clock::now() - sent_at);
            ++st.acked;
            st.bytes += record_size;
          } else {
            ++st.failed;
          }
        });
    if (!queued) {
      std::lock_guard lock(st.mutex);
      ++st.failed;
    }
  }
  if (auto flushed = (*p)->flush(); !flushed) {
    throw std::runtime_error("flush: " + flushed.error().message());
  }
  const std::chrono::duration<double> took = clock::now() - start;
  std::lock_guard lock(st.mutex);
  print_figures("sluice", "produce", st.acked, st.bytes, st.failed, took.count(), &st.latency,
                {{"keys", keys}});
  return st.failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sluice::compare

int main(int argc, char** argv) {
  try {
    const sluice::compare::options o(argc, argv);
    if (o.mode() == "produce") return sluice::compare::produce(o);
    fmt::print(stderr, "sluice-compare-sluice: unknown mode {}\n", o.mode());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice-compare-sluice: {}\n", e.what());
    return 1;
  }
}
