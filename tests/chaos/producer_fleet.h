#pragma once
// The producers of the chaos harness: `count` threads, each with one sluice::producer (acks=1,
// idempotent) that lives for the whole run, through every broker kill, pause and restart. Each
// thread sends its records (chaos_records.h) as fast as the broker takes them, with at most
// max_outstanding of them waiting for an outcome, to an explicit partition of one of the
// topics, and records every acknowledgement: (topic, partition, offset, hash of the value).
//
// The harness never sends a record twice itself: every resend is the producer library's own
// retry, within one producer session (one producer id, the same sequence numbers), which is what
// the idempotence promise covers. So any record found twice in the log is a broken promise.
// A record whose callback reports an error (e.g. delivery_timeout passed while the broker was
// down) has an unknown fate: it may be in the log, at most once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/chaos/chaos_records.h"

namespace sluice::chaos {

struct ack {
  std::uint64_t id = 0;    // record_id::packed()
  std::int32_t topic = 0;  // index into fleet_config::topics
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::uint64_t value_hash = 0;
};

struct chaos_topic {
  std::string name{};
  std::int32_t partitions = 1;
  int weight = 1;  // share of the records sent to it
};

struct fleet_config {
  std::string brokers{};
  std::vector<chaos_topic> topics{};
  int producers = 3;
  std::uint64_t seed = 0;
  int max_outstanding = 1000;  // per producer
  std::chrono::milliseconds request_timeout{1000};
  std::chrono::milliseconds delivery_timeout{300'000};
};

class producer_fleet {
 public:
  explicit producer_fleet(fleet_config config);
  ~producer_fleet();  // stop() if still running
  producer_fleet(const producer_fleet&) = delete;
  producer_fleet& operator=(const producer_fleet&) = delete;

  // Stops sending new records, waits up to `timeout` for every outcome, closes the producers.
  // Returns false when some records still had no outcome then.
  bool stop(std::chrono::milliseconds timeout);

  [[nodiscard]] std::uint64_t acked() const { return acked_.load(); }
  [[nodiscard]] std::uint64_t failed() const { return failed_.load(); }
  [[nodiscard]] std::uint64_t sent() const { return sent_.load(); }
  // Which topic and partition record `id` goes to (a pure function of the id and the topics).
  [[nodiscard]] std::pair<std::int32_t, std::int32_t> target_of(record_id id) const;
  // Every acknowledgement so far (after stop(): all of them).
  [[nodiscard]] std::vector<ack> acks() const;
  // The first few errors callbacks reported, for stderr.
  [[nodiscard]] std::vector<std::string> sample_errors() const;

 private:
  struct worker;
  void run(worker& w);

  fleet_config config_;
  int total_weight_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> acked_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> sent_{0};
  std::vector<std::unique_ptr<worker>> workers_;
  mutable std::mutex errors_mu_;
  std::vector<std::string> errors_;
};

}  // namespace sluice::chaos
