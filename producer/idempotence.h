#pragma once
// Idempotence: the producer id the broker gave us and the sequence numbers of every partition.
// A batch carries (producer id, epoch, base sequence); the broker stores a batch only if its
// base sequence is the next one it expects for that producer and partition, and answers a batch
// it already has (a retry) with the original offset. So a batch must be resent with exactly the
// bytes it was first sent with, and sequences are assigned when a batch leaves the accumulator,
// in the order the batches of a partition are sent.

#include <cstdint>
#include <unordered_map>

#include "producer/topic_partition.h"
#include "protocol/bytes.h"

namespace sluice::producer_internal {

struct producer_stamp {
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  bool operator==(const producer_stamp&) const = default;
};

// Writes the stamp into a built RecordBatch v2 (ProducerId, ProducerEpoch, BaseSequence) and
// recomputes the CRC, which covers them. REQUIRES: batch is a whole batch.
void write_producer_stamp(mutable_byte_span batch, const producer_stamp& stamp);

// Kafka's sequence arithmetic: sequences are non-negative int32 and wrap to 0 after INT32_MAX.
[[nodiscard]] std::int32_t add_to_sequence(std::int32_t sequence, std::int32_t count);

// Producer id and per-partition sequences. Io thread only (no lock).
//
// A partition keeps the producer id its sequences belong to. When the broker's state for a
// partition can no longer be matched (a batch was lost for good, see sender.h), the partition
// is reset: it moves to a newer producer id and starts again at sequence 0; other partitions
// keep theirs.
class producer_sequences {
 public:
  // The producer id from the latest InitProducerId.
  void set_producer(std::int64_t producer_id, std::int16_t epoch);
  [[nodiscard]] bool has_producer() const { return producer_id_ >= 0; }
  [[nodiscard]] bool is_current(std::int64_t producer_id, std::int16_t epoch) const {
    return producer_id == producer_id_ && epoch == producer_epoch_;
  }

  // The stamp for the next batch of tp with `record_count` records; advances tp's sequence.
  // REQUIRES: has_producer(), record_count > 0.
  [[nodiscard]] producer_stamp assign(const topic_partition& tp, std::int32_t record_count);

  // Takes back every sequence of tp from `stamp` on: the next assignment starts at its base
  // sequence. For when the broker holds none of them (the caller knows: sender.h). Returns
  // false, changing nothing, when tp's sequences belong to another producer id by now.
  bool take_back(const topic_partition& tp, const producer_stamp& stamp);

  // Whether tp's sequences belong to the current producer id (a reset needs a newer one).
  [[nodiscard]] bool uses_current_producer(const topic_partition& tp) const;
  // tp moves to the current producer id at sequence 0. REQUIRES: !uses_current_producer(tp).
  void reset(const topic_partition& tp);

 private:
  struct partition_sequence {
    std::int64_t producer_id = -1;
    std::int16_t producer_epoch = -1;
    std::int32_t next = 0;
  };

  std::int64_t producer_id_ = -1;
  std::int16_t producer_epoch_ = -1;
  std::unordered_map<topic_partition, partition_sequence, topic_partition_hash> partitions_;
};

}  // namespace sluice::producer_internal
