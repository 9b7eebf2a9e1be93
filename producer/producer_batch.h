#pragma once
// One batch of records for one partition, from the first record appended to its outcome.
//
// Life: open in the accumulator (records are encoded into it as they are appended, under the
// accumulator's lock) -> sealed by the sender on the io thread (compressed, stamped with its
// producer id and sequence; its bytes never change again, except by a partition reset, which
// stamps a copy) -> sent, possibly several times -> completed or failed, exactly once: every
// record's callback runs then, on the io thread. A batch the broker refuses as too large may
// instead be split: its records (and their callbacks) move to smaller batches, which live on.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "producer/idempotence.h"
#include "producer/producer.h"
#include "producer/topic_partition.h"
#include "protocol/record.h"
#include "protocol/record_batch_builder.h"
#include "protocol/request_builder.h"

namespace sluice::producer_internal {

using clock = std::chrono::steady_clock;

// An upper bound of the bytes a record takes inside a batch (its varint framing included): what
// batch_size, buffer_memory and max_request_size are measured in.
[[nodiscard]] std::size_t record_size_upper_bound(const producer_record& r);

class producer_batch {
 public:
  // Where the sender has the batch (see sender.h).
  enum class state { open, queued, in_flight, awaiting_retry, done };

  producer_batch(topic_partition tp, std::uint64_t id, clock::time_point created,
                 const record_batch_builder::options& opts);

  // Encodes the record (copying key, value and headers) and keeps its callback.
  // REQUIRES: the batch is open; size = record_size_upper_bound(r).
  void add(const producer_record& r, std::int64_t timestamp, std::size_t size,
           producer::callback cb);

  [[nodiscard]] const topic_partition& tp() const { return tp_; }
  [[nodiscard]] std::uint64_t id() const { return id_; }
  [[nodiscard]] clock::time_point created() const { return created_; }
  [[nodiscard]] std::int32_t record_count() const { return record_count_; }
  // Upper bound of the encoded (uncompressed) batch: header + records.
  [[nodiscard]] std::size_t estimated_bytes() const { return estimated_bytes_; }
  // Bytes counted against buffer_memory until the batch is done.
  [[nodiscard]] std::size_t memory_bytes() const { return memory_bytes_; }

  // Builds the batch bytes (compressing them) and, with idempotence, stamps them.
  // REQUIRES: open, at least one record. Io thread, outside the accumulator's lock.
  void seal(std::optional<producer_stamp> stamp);
  // Stamps a copy of the bytes (requests still holding the old bytes keep them intact).
  // REQUIRES: sealed.
  void restamp(const producer_stamp& stamp);
  // Moves the records, in order, into sealed parts of at most half this batch's estimated
  // bytes each (a record larger than that gets a part of its own), so every part is smaller
  // and has fewer records. With a stamp, the parts continue each other's sequences from this
  // batch's base sequence: together they cover exactly its sequences. The parts take over the
  // callbacks and the memory; they keep this batch's id, partition and creation time. This
  // batch is left done without running a callback.
  // REQUIRES: sealed, not done, at least two records.
  [[nodiscard]] std::vector<std::shared_ptr<producer_batch>> split();
  [[nodiscard]] const shared_bytes& bytes() const { return bytes_; }
  [[nodiscard]] const std::optional<producer_stamp>& stamp() const { return stamp_; }

  // Runs every record's callback: offsets base_offset, base_offset + 1, ... (or -1 each when
  // base_offset is -1, as with acks=0). REQUIRES: not done.
  void complete(std::int64_t base_offset);
  // Runs every record's callback with e. REQUIRES: not done.
  void fail(const error& e);
  [[nodiscard]] bool done() const { return state_ == state::done; }

  // The sender's bookkeeping (io thread).
  [[nodiscard]] state current_state() const { return state_; }
  void set_state(state s) { state_ = s; }
  int attempts = 0;                 // sends so far
  clock::time_point retry_at{};     // awaiting_retry: not before this
  std::optional<error> last_error;  // of the latest failed attempt, for the timeout's detail
  // Sent, and no answer since proved it was not stored (a lost answer, a timeout).
  bool may_be_stored = false;
  // A batch numbered after this one was (or may have been) stored while this one was not done:
  // this one's sequences can no longer be reused, nor its records stored ahead of that batch.
  bool later_may_be_stored = false;
  bool split_part = false;  // made by split()
  // Sent (handed to a connection) in a request within the broker's request limit as known
  // then: that attempt may have been read and stored, whatever limit the broker tells later.
  bool sent_within_known_limit = false;
  // Its place among the batches of its partition, counted as the sender seals them (split parts
  // keep the batch's): bounds how far sending may run ahead of an unfinished batch (sender.h).
  std::uint64_t window_index = 0;
  bool unsettled = false;  // a split part that waits for the fate of the batches after it

 private:
  struct pending_record {
    producer::callback callback;
    std::int64_t timestamp;
    std::size_t size;  // record_size_upper_bound, for memory and the split
  };

  // The records of records_[first, last) become the open batch part; `decoded` holds them all.
  void move_records_to(producer_batch& part, const decoded_records& decoded, std::size_t first,
                       std::size_t last);
  // Where each part of split() starts in records_, and the end.
  [[nodiscard]] std::vector<std::size_t> split_points() const;

  topic_partition tp_;
  std::uint64_t id_;
  clock::time_point created_;
  record_batch_builder::options options_;          // for the parts of a split
  std::unique_ptr<record_batch_builder> builder_;  // while open
  std::vector<pending_record> records_;            // emptied when the batch is done
  std::int32_t record_count_ = 0;
  std::size_t estimated_bytes_;
  std::size_t memory_bytes_ = 0;
  shared_bytes bytes_;
  std::optional<producer_stamp> stamp_;
  state state_ = state::open;
};

using batch_ptr = std::shared_ptr<producer_batch>;

}  // namespace sluice::producer_internal
