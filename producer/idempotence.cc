#include "producer/idempotence.h"

#include <limits>

#include "protocol/crc32c.h"
#include "protocol/record_batch_format.h"
#include "protocol/result.h"

namespace sluice::producer_internal {

void write_producer_stamp(mutable_byte_span batch, const producer_stamp& stamp) {
  SLUICE_ASSERT(batch.size() >= batch_header_size);
  std::byte* p = batch.data();
  store_be(p + producer_id_offset, stamp.producer_id);
  store_be(p + producer_epoch_offset, stamp.producer_epoch);
  store_be(p + base_sequence_offset, stamp.base_sequence);
  store_be(p + crc_offset, crc32c(byte_span(batch).subspan(crc_scope_start)));
}

std::int32_t add_to_sequence(std::int32_t sequence, std::int32_t count) {
  constexpr std::int32_t max = std::numeric_limits<std::int32_t>::max();
  SLUICE_ASSERT(sequence >= 0 && count >= 0);
  if (sequence > max - count) return count - (max - sequence) - 1;
  return sequence + count;
}

void producer_sequences::set_producer(std::int64_t producer_id, std::int16_t epoch) {
  producer_id_ = producer_id;
  producer_epoch_ = epoch;
}

producer_stamp producer_sequences::assign(const topic_partition& tp, std::int32_t record_count) {
  SLUICE_ASSERT(has_producer() && record_count > 0);
  auto [it, fresh] = partitions_.try_emplace(tp);
  auto& s = it->second;
  if (fresh) {
    s.producer_id = producer_id_;
    s.producer_epoch = producer_epoch_;
  }
  const producer_stamp stamp{s.producer_id, s.producer_epoch, s.next};
  s.next = add_to_sequence(s.next, record_count);
  return stamp;
}

bool producer_sequences::take_back(const topic_partition& tp, const producer_stamp& stamp) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return false;
  auto& s = it->second;
  if (s.producer_id != stamp.producer_id || s.producer_epoch != stamp.producer_epoch) return false;
  s.next = stamp.base_sequence;
  return true;
}

bool producer_sequences::uses_current_producer(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return true;  // its first batch will get the current id
  return it->second.producer_id == producer_id_ && it->second.producer_epoch == producer_epoch_;
}

void producer_sequences::reset(const topic_partition& tp) {
  SLUICE_ASSERT(!uses_current_producer(tp));
  partitions_[tp] = partition_sequence{producer_id_, producer_epoch_, 0};
}

}  // namespace sluice::producer_internal
