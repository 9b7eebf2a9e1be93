#pragma once
// Choosing a partition for a record. Keyed records: Kafka's default partitioner (murmur2 of the
// key bytes, made positive, modulo the partition count; declared in producer.h). Records without
// a key: sticky partitioning, so they fill whole batches instead of spreading thin ones over
// every partition.

#include <cstdint>

namespace sluice::producer_internal {

// Null-key records stick to one partition until the batch they fill is closed (full or sent),
// then move to the next partition, round-robin. Not thread-safe: the accumulator holds it under
// its lock, one per topic.
class sticky_partitioner {
 public:
  // start: the first partition to use (a producer spreads its topics' starts).
  explicit sticky_partitioner(std::uint32_t start = 0) : next_(start) {}

  // The partition for the next null-key record. `batch_still_open` tells whether the batch the
  // previous null-key records went to is still open and has room; if not, the choice moves on.
  // REQUIRES: partitions > 0.
  [[nodiscard]] std::int32_t choose(std::int32_t partitions, bool batch_still_open);

  // The partition chosen last; -1 before the first choice.
  [[nodiscard]] std::int32_t current() const { return current_; }
  // The batch (accumulator id) null-key records currently fill; 0 before the first.
  [[nodiscard]] std::uint64_t batch_id() const { return batch_id_; }
  void set_batch_id(std::uint64_t id) { batch_id_ = id; }

 private:
  std::uint32_t next_;
  std::int32_t current_ = -1;
  std::uint64_t batch_id_ = 0;
};

}  // namespace sluice::producer_internal
