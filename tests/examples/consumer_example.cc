// Reads a topic from the beginning of every partition and prints each record.
//
//   example-consumer [BROKERS [TOPIC [COUNT]]]
//
// BROKERS as for example-producer; TOPIC defaults to "events". Stops after COUNT records
// (default 10); exit status 1 when a poll fails or no record arrives for 10 seconds.

#include <fmt/format.h>

#include <chrono>
#include <string>

#include "consumer/consumer.h"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  sluice::consumer_config config;
  if (argc > 1) config.brokers = argv[1];
  const std::string topic = argc > 2 ? argv[2] : "events";
  const int count = argc > 3 ? std::stoi(argv[3]) : 10;

  auto created = sluice::consumer::create(config);
  if (!created) {
    fmt::print(stderr, "cannot create the consumer: {}\n", created.error().message());
    return 1;
  }
  sluice::consumer& consumer = **created;

  // Every partition of the topic, read from its first retained record.
  auto partitions = consumer.partitions_for(topic);
  if (!partitions) {
    fmt::print(stderr, "{}: {}\n", topic, partitions.error().message());
    return 1;
  }
  if (auto r = consumer.assign(*partitions); !r) {
    fmt::print(stderr, "assign: {}\n", r.error().message());
    return 1;
  }
  if (auto r = consumer.seek_to_beginning({}); !r) {  // {}: every assigned partition
    fmt::print(stderr, "seek: {}\n", r.error().message());
    return 1;
  }

  int received = 0;
  auto last_record = std::chrono::steady_clock::now();
  while (received < count) {
    auto records = consumer.poll(500ms);  // empty after 500 ms without records: not an error
    if (!records) {
      fmt::print(stderr, "poll: {}\n", records.error().message());
      return 1;
    }
    for (const auto& r : *records) {
      fmt::print("{}-{}@{} key={} value={}\n", r.topic, r.partition, r.offset,
                 r.key.value_or("(null)"), r.value.value_or("(null)"));
      last_record = std::chrono::steady_clock::now();
      if (++received == count) break;
    }
    if (std::chrono::steady_clock::now() - last_record > 10s) {
      fmt::print(stderr, "only {} of {} records arrived\n", received, count);
      return 1;
    }
  }
  return 0;
}
