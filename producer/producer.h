#pragma once
// The Sluice producer: sends records to topics and tells the caller, for each record, the
// partition and offset it was stored at (or why it was not).
//
//   auto p = sluice::producer::create({.brokers = "127.0.0.1:9190"}).value();
//   p->send({.topic = "events", .key = "user-1", .value = "clicked"},
//           [](const sluice::result<sluice::record_metadata>& r) { ... });  // on the io thread
//   auto md = p->send({.topic = "events", .value = "x"}).get();      // or a future
//   p->flush();                                                      // all acked or failed
//
// How it works: records are grouped per partition into RecordBatch v2 batches (up to
// batch_size bytes, or what arrived within linger), compressed with zstd, and sent on the io
// thread with up to max_in_flight requests pipelined. With idempotence (the default) the
// producer gets a producer id from the broker and numbers every batch per partition, so a batch
// retried after a timeout or a dropped connection is stored once: the broker recognises the
// retry and answers with the original offset.
//
// Ordering: records sent to one partition are stored in send() order, retries included (with
// idempotence, or with max_in_flight = 1; without either, a retried batch may land after a
// later one, and a batch may be stored twice).
// Memory: at most buffer_memory bytes of records wait to be acknowledged; send() blocks up to
// max_block for space, then fails with client_errc::buffer_full.
// Errors: every record's callback runs exactly once, with its metadata or the error; nothing is
// swallowed. Retriable errors (lost connections, timeouts, not_enough_space,
// broker_shutting_down) are retried after retry_backoff until delivery_timeout (then
// client_errc::timed_out, naming the last error); others fail the batch's records at once with
// the broker's error and message (unknown_topic, corrupt_batch, ...). A batch above the topic's
// max.message.bytes (which may be smaller than batch_size) is split and its parts sent again,
// in order, so only a record too large on its own fails with message_too_large (and, rarely,
// the records of a batch refused while a later one of the same partition was stored first:
// they cannot be stored ahead of it; see producer/sender.h). The same goes for the broker's
// request size limit (its --max-request-bytes, when below max_request_size), which the broker
// tells on connecting: the producer keeps its requests within it (acks=0 too), splits a batch
// too large for it, and fails a record too large for it at once with message_too_large naming
// the limit. (A broker that does not tell it refuses a larger request whole and closes the
// connection; the producer learns the limit from that refusal.) A batch sent before the broker
// restarted with a lower limit, and too large for the new one, may have been stored: its records
// fail with message_too_large, as of unknown fate, rather than be split and risk being stored
// twice.
// Metadata: a topic's partition count is fetched on its first send() and cached; it is
// refreshed in the background every metadata_max_age, and an unknown_topic or
// unknown_partition answer makes the next send() fetch it again.
//
// Threading: every public method may be called from any thread. Callbacks run on the producer's
// io thread and must neither block nor throw; they may call send() (which then never waits: it
// fails with buffer_full, or timed_out for a topic whose metadata is not cached yet), but not
// flush() or close(), and must not destroy the producer (say, by dropping the last shared_ptr
// to it that a callback captured): each of those waits for the io thread, which is running the
// callback, and asserts instead.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/idempotent_window.h"
#include "protocol/record_batch_format.h"
#include "protocol/result.h"

namespace sluice {

struct producer_config {
  // "host:port[,host:port]"; empty: the SLUICE_BROKERS environment variable, else
  // 127.0.0.1:9190.
  std::string brokers{};
  std::string client_id = "sluice-producer";
  // 0: no acknowledgement (offsets unknown, -1); 1: after the broker made the batch durable
  // under the topic's flush policy; -1 (all): as 1 on one broker, all in-sync replicas later.
  int acks = 1;
  std::chrono::milliseconds linger{5};          // linger.ms: wait this long to fill a batch
  std::size_t batch_size = 64 * 1024;           // batch.size: bytes per partition batch
  std::size_t buffer_memory = 64ULL << 20;      // buffer.memory: record bytes awaiting acks
  std::chrono::milliseconds max_block{60'000};  // max.block.ms: send() wait for space/metadata
  compression codec = compression::zstd;        // compression.type: none or zstd
  int zstd_level = 3;
  // enable.idempotence: needs acks 1 or -1 and max_in_flight <= idempotent_window_batches (10)
  bool idempotence = true;
  // max.in.flight.requests.per.connection (Produce requests). Kafka's default is 5; 10 keeps a
  // durable producer of small records from waiting on its window (protocol/idempotent_window.h).
  int max_in_flight = idempotent_window_batches;
  std::chrono::milliseconds request_timeout{30'000};    // request.timeout.ms
  std::chrono::milliseconds delivery_timeout{120'000};  // delivery.timeout.ms: send to outcome
  std::chrono::milliseconds retry_backoff{100};         // retry.backoff.ms
  std::chrono::milliseconds metadata_max_age{300'000};  // metadata.max.age.ms: refresh period
  std::size_t max_request_size = 1U << 20;  // max.request.size: larger records are refused

  // Checks ranges and combinations; the error (client_errc::invalid_argument) names the setting.
  [[nodiscard]] result<void> validate() const;
};

// Members have default initializers so designated initializers may leave any out (GCC's
// -Wmissing-field-initializers would warn otherwise).
struct record_header_kv {
  std::string key{};
  std::optional<std::string> value{};
};

struct producer_record {
  std::string topic{};
  std::optional<std::string> key{};    // null key: partitions are chosen round-robin per batch
  std::optional<std::string> value{};  // null value: a tombstone
  std::vector<record_header_kv> headers{};
  std::optional<std::int32_t> partition{};  // set: this partition; else murmur2(key) as Kafka
  std::optional<std::int64_t> timestamp{};  // ms since the epoch; default: when send() is called
};

struct record_metadata {
  std::string topic{};
  std::int32_t partition = -1;
  std::int64_t offset = -1;  // -1 with acks=0
  std::int64_t timestamp = -1;
};

// Kafka's default partitioner for keyed records: murmur2 of the key bytes, made positive,
// modulo the partition count. The same key lands on the same partition as with Kafka clients.
[[nodiscard]] std::int32_t partition_for_key(std::string_view key, std::int32_t partitions);
// Kafka's murmur2 (seed 0x9747b28c), as in org.apache.kafka.common.utils.Utils.murmur2.
[[nodiscard]] std::int32_t murmur2(std::string_view data);

class producer {
 public:
  // The outcome is lent for the call: the records of one batch share one, their offset and
  // timestamp set in turn, so no record pays for a copy of the topic name. A callback that
  // takes it by value gets its own copy.
  using callback = std::function<void(const result<record_metadata>&)>;

  // Validates the config and starts the io thread; connects lazily on the first send.
  [[nodiscard]] static result<std::unique_ptr<producer>> create(producer_config config);
  // close() with the default timeout.
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  // Queues a record; blocks up to max_block for the topic's metadata and for buffer space.
  // Returns an error (and never calls cb) when the record can never be sent (empty topic:
  // invalid_argument; larger than max_request_size: wire message_too_large), when the producer
  // is closed (client_closed), or when max_block passed (timed_out waiting for metadata, the
  // detail naming the last error; buffer_full waiting for space). Otherwise cb runs exactly once
  // on the io thread — also for what the broker says about the topic (unknown_topic, an
  // explicit partition out of range: unknown_partition).
  [[nodiscard]] result<void> send(const producer_record& record, callback cb);
  // The same, as a future.
  [[nodiscard]] std::future<result<record_metadata>> send(const producer_record& record);

  // Sends whatever is lingering now and waits until every record sent before this call has its
  // outcome (its callback has run). Fails with timed_out if that takes longer than `timeout`,
  // and with invalid_argument from a callback (it would wait for itself).
  [[nodiscard]] result<void> flush(std::chrono::milliseconds timeout = std::chrono::hours(24));

  // Flushes (up to timeout), then fails what is still pending with client_closed and stops the
  // io thread. Idempotent. REQUIRES: not called from a callback.
  void close(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  struct stats {
    std::uint64_t records_sent = 0;  // acknowledged
    std::uint64_t records_failed = 0;
    std::uint64_t batches_sent = 0;    // acknowledged
    std::uint64_t retries = 0;         // batches sent again
    std::uint64_t bytes_buffered = 0;  // now
  };
  [[nodiscard]] stats statistics() const;

 private:
  struct impl;
  explicit producer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice
