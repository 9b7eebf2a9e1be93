// Sends keyed records to a topic and prints where the broker stored each one.
//
//   example-producer [BROKERS [TOPIC [COUNT]]]
//
// BROKERS is "host:port[,host:port]" (empty or left out: $SLUICE_BROKERS, else 127.0.0.1:9190);
// TOPIC defaults to "events" and must exist; COUNT (default 10) records are sent with a
// callback, then one more with a future. Exit status 0 when every record was stored.

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <string>

#include "producer/producer.h"

int main(int argc, char** argv) {
  sluice::producer_config config;
  if (argc > 1) config.brokers = argv[1];
  const std::string topic = argc > 2 ? argv[2] : "events";
  const int count = argc > 3 ? std::stoi(argv[3]) : 10;

  std::atomic<int> failed{0};  // declared first: it must outlive the producer's callbacks

  auto created = sluice::producer::create(config);
  if (!created) {
    fmt::print(stderr, "cannot create the producer: {}\n", created.error().message());
    return 1;
  }
  sluice::producer& producer = **created;

  // Records with the same key go to the same partition, in the order they were sent.
  for (int i = 0; i < count; ++i) {
    sluice::producer_record record{
        .topic = topic, .key = fmt::format("user-{}", i % 3), .value = fmt::format("event {}", i)};
    auto queued = producer.send(
        std::move(record), [&failed, i](const sluice::result<sluice::record_metadata>& stored) {
          // Runs on the producer's io thread: keep it short and never block here.
          if (stored) {
            fmt::print("record {} stored at {}-{}@{}\n", i, stored->topic, stored->partition,
                       stored->offset);
          } else {
            fmt::print(stderr, "record {} failed: {}\n", i, stored.error().message());
            ++failed;
          }
        });
    if (!queued) {  // never queued (e.g. no metadata for the topic within max_block)
      fmt::print(stderr, "cannot send record {}: {}\n", i, queued.error().message());
      return 1;
    }
  }

  // The same with a future: wait for this one record's outcome.
  auto last = producer.send({.topic = topic, .key = "user-0", .value = "last event"}).get();
  if (!last) {
    fmt::print(stderr, "the last record failed: {}\n", last.error().message());
    return 1;
  }
  fmt::print("last record stored at {}-{}@{}\n", last->topic, last->partition, last->offset);

  // Waits until every record sent so far has its outcome (its callback has run).
  if (auto flushed = producer.flush(std::chrono::seconds(30)); !flushed) {
    fmt::print(stderr, "flush: {}\n", flushed.error().message());
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
