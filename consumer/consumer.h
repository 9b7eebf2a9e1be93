#pragma once
// The Sluice consumer: reads records from assigned partitions, from any retained offset or
// timestamp, live or from history.
//
//   auto c = sluice::consumer::create({.brokers = "127.0.0.1:9190"}).value();
//   c->assign({{"events", 0}, {"events", 1}}).value();
//   c->seek_to_beginning({{"events", 0}}).value();
//   for (;;) {
//     auto records = c->poll(std::chrono::milliseconds(500)).value();
//     for (const auto& r : records) use(r.offset, r.key, r.value);
//   }
//
// How it works: an io thread keeps fetches in flight for every assigned partition with a
// position (a fetch is sent again as soon as the previous answer arrives, before that answer is
// decoded, while the caller processes what it got: pipelined), up to max_buffered_bytes of
// fetched, not yet polled records. Batches are checked (CRC), decompressed (zstd) and records
// below the position skipped, on the io thread; poll() takes whole chunks of records under one
// lock.
//
// Positions: a newly assigned partition starts per auto_offset_reset (latest by default) unless
// seek*() says otherwise. A position that falls out of range (retention deleted it, or a seek
// went past the end) is reset per auto_offset_reset; with `none`, poll() fails with
// offset_out_of_range naming the partition (also for a newly assigned partition not sought).
//
// Errors: poll() returns each error once, after the records fetched before it. A partition that
// fails for good (offset out of range with `none`, a CRC mismatch or undecodable batch, an
// unknown topic or partition, a storage error on the broker) stops: nothing more is fetched for
// it until seek*() is called for it; the other partitions go on. A dropped connection, a
// request that timed out (its connection is closed and made again) or a broker restart is
// retried (backoff up to 1 s) from the positions the consumer has, without losing or repeating
// records; poll() reports the outage once it has lasted request_timeout (and again every
// request_timeout), and the consumer keeps retrying until close(). A partition the broker
// answers with a retriable error (not_leader, broker_shutting_down, request_timed_out,
// not_enough_space: a leader moving, a broker stopping) is fetched again every 100 ms, quietly
// for request_timeout, which a leader election or a restart usually takes less than; then
// poll() reports it, with the partition and the broker's error in the detail, and again every
// request_timeout while it lasts. Such a partition is not stopped: its records come as soon as
// the broker serves it again (a seek drops a report not yet polled).
//
// Memory: max_buffered_bytes counts the decoded records waiting for poll() (the record objects
// and the bytes their views point into), plus the fetched bytes of an answer being decoded; one
// answer per partition, and one more on its way (two fetches in flight), may go past it.
// Records point into the fetch answer's bytes instead of owning copies (consumer_record):
// decoding allocates nothing per record.
//
// Threading: a consumer is used by one thread at a time (like Kafka's); the io thread is
// internal.

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.h"

namespace sluice {

// Public structs are default-initialised, so designated initializers may leave any field out.
struct topic_partition {
  std::string topic{};
  std::int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

// "topic-partition", as Kafka prints a TopicPartition: how errors name a partition.
inline std::string to_string(const topic_partition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

struct consumer_config {
  std::string brokers{};  // as producer_config::brokers
  std::string client_id = "sluice-consumer";
  enum class offset_reset { earliest, latest, none };
  offset_reset auto_offset_reset = offset_reset::latest;
  std::int32_t fetch_min_bytes = 1;                   // fetch.min.bytes
  std::chrono::milliseconds fetch_max_wait{500};      // fetch.max.wait.ms
  std::int32_t fetch_max_bytes = 50 << 20;            // fetch.max.bytes, per request
  std::int32_t max_partition_fetch_bytes = 1 << 20;   // max.partition.fetch.bytes
  std::size_t max_poll_records = 500;                 // max.poll.records
  std::size_t max_buffered_bytes = 64ULL << 20;       // prefetched, not yet polled
  std::chrono::milliseconds request_timeout{30'000};  // request.timeout.ms
  // receive.buffer.bytes: SO_RCVBUF of the connection; -1 leaves it to the kernel, as does a
  // net.core.rmem_max below it (set_receive_buffer in client_connection.h). The default holds a
  // whole max_partition_fetch_bytes answer, so the broker sends the next answer while the
  // previous one is decoded (perf/RESULTS.md, "Replay").
  std::int32_t receive_buffer_bytes = 1 << 20;
  bool check_crcs = true;  // check.crcs
  // Fetches per partition in flight, 1 or 2. With 2 the next fetch goes out as soon as an
  // answer's message says where the partition continues, before its records arrive: a replay
  // on loopback ran 1.26x faster. With 1 (as Kafka's consumers do) the next goes out once the
  // whole answer is in; on a host where consumers and broker compete for the CPUs it cost the
  // broker less CPU per byte (perf/RESULTS.md, "Replay: two fetches in flight").
  int max_fetches_in_flight = 2;
  // A connection lost with two fetches in flight goes back to the older one's offset; more
  // would need the oldest of several (fetcher::forget_fetch).
  static constexpr int max_fetches_in_flight_limit = 2;

  [[nodiscard]] result<void> validate() const;
};

// A record as fetched. Key, value and headers are views into the fetched bytes (or, for a
// compressed batch, its decompressed records), which `bytes` keeps alive: the views stay valid
// as long as the record (or a copy of it) lives, with no copy per record. The records of one
// fetch answer share its bytes, every partition's in it, so a record kept long keeps that whole
// answer's memory (up to fetch_max_bytes, or one first batch per partition if more), which
// max_buffered_bytes no longer counts once polled; copy key and value out
// (std::string(*r.value)) to keep them apart. nullopt: a null key, value (tombstone) or header
// value.
struct consumer_record {
  std::string topic{};
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp = 0;
  std::optional<std::string_view> key{};
  std::optional<std::string_view> value{};
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers{};
  std::shared_ptr<const void> bytes{};  // owns what the views point into
};

class consumer {
 public:
  [[nodiscard]] static result<std::unique_ptr<consumer>> create(consumer_config config);
  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  // Replaces the assignment. Fails with unknown_topic / unknown_partition (checked against the
  // broker's metadata) and changes nothing then.
  [[nodiscard]] result<void> assign(std::vector<topic_partition> partitions);
  [[nodiscard]] std::vector<topic_partition> assignment() const;
  // Every partition of a topic, from the broker's metadata.
  [[nodiscard]] result<std::vector<topic_partition>> partitions_for(const std::string& topic);

  // Positions. Each REQUIRES assigned partitions (else client_errc::invalid_argument); an empty
  // list means every assigned partition. A seek drops what was prefetched for the partition
  // (also the answer of a fetch in flight) and resumes a stopped partition. All or nothing:
  // when a ListOffsets fails for one partition, no position changes.
  [[nodiscard]] result<void> seek(const topic_partition& tp, std::int64_t offset);
  [[nodiscard]] result<void> seek_to_beginning(const std::vector<topic_partition>& tps);
  [[nodiscard]] result<void> seek_to_end(const std::vector<topic_partition>& tps);
  // To the first record with timestamp >= ts; to the end where no record is that late.
  [[nodiscard]] result<void> seek_to_timestamp(const std::vector<topic_partition>& tps,
                                               std::int64_t timestamp_ms);

  // Up to max_poll_records records, in offset order per partition; waits up to `timeout` when
  // none is buffered. An empty vector after the timeout is not an error.
  [[nodiscard]] result<std::vector<consumer_record>> poll(std::chrono::milliseconds timeout);

  // The offset of the next record poll() will return for tp. When the partition has no position
  // yet (its reset is under way), resets it now per auto_offset_reset (offset_out_of_range with
  // `none`).
  [[nodiscard]] result<std::int64_t> position(const topic_partition& tp) const;
  // high watermark (from the latest fetch) - position; nullopt before the first fetch answered.
  [[nodiscard]] std::optional<std::int64_t> lag(const topic_partition& tp) const;

  // Stops fetching, closes the connection and joins the io thread; later calls fail with
  // client_closed. Idempotent; the destructor calls it.
  void close();

 private:
  struct impl;
  explicit consumer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice
