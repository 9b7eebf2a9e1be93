#include "broker/producer_state.h"

#include <fmt/format.h>

#include <algorithm>

#include "broker/errc.h"

namespace sluice {
namespace {

// Kafka's sequences wrap from INT32_MAX to 0.
std::int32_t next_sequence(std::int32_t s) {
  return s == INT32_MAX ? 0 : s + 1;
}

}  // namespace

producer_batch_ids producer_batch_ids::of(const batch_header& h) {
  producer_batch_ids ids{h.producer_id, h.producer_epoch, h.base_sequence, -1};
  const std::int64_t last = std::int64_t{h.base_sequence} + h.last_offset_delta;
  ids.last_sequence = static_cast<std::int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
  return ids;
}

result<producer_state_table::verdict> producer_state_table::check(
    const producer_batch_ids& ids) const {
  if (!ids.idempotent()) return verdict{};
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end()) return verdict{};
  const producer_entry& e = it->second;
  if (ids.epoch < e.epoch) {
    return make_error(broker_errc::invalid_producer_epoch,
                      fmt::format("producer {} epoch {} is older than the current epoch {}",
                                  ids.producer_id, ids.epoch, e.epoch));
  }
  if (ids.epoch > e.epoch) {
    if (ids.first_sequence == 0) return verdict{};
    return make_error(broker_errc::out_of_order_sequence,
                      fmt::format("producer {} starts epoch {} at sequence {}, expected 0",
                                  ids.producer_id, ids.epoch, ids.first_sequence));
  }
  for (const auto& s : e.stored) {
    if (s.first_sequence == ids.first_sequence && s.last_sequence == ids.last_sequence) {
      return verdict{verdict::kind::duplicate_stored, s.base};
    }
  }
  for (const auto& f : e.in_flight) {
    if (f.first_sequence == ids.first_sequence && f.last_sequence == ids.last_sequence) {
      return verdict{verdict::kind::duplicate_in_flight, offset{-1}};
    }
  }
  std::optional<std::int32_t> newest;
  if (!e.in_flight.empty()) {
    newest = e.in_flight.back().last_sequence;
  } else if (!e.stored.empty()) {
    newest = e.stored.back().last_sequence;
  }
  if (!newest || ids.first_sequence == next_sequence(*newest)) return verdict{};
  return make_error(
      broker_errc::out_of_order_sequence,
      fmt::format("producer {} epoch {}: batch starts at sequence {}, expected {}", ids.producer_id,
                  ids.epoch, ids.first_sequence, next_sequence(*newest)));
}

void producer_state_table::on_submitted(const producer_batch_ids& ids) {
  if (!ids.idempotent()) return;
  producer_entry& e = producers_[ids.producer_id];
  if (ids.epoch > e.epoch) {
    e = producer_entry{};
    e.epoch = ids.epoch;
  }
  e.in_flight.push_back(ids);
}

void producer_state_table::on_stored(const producer_batch_ids& ids, offset base) {
  if (!ids.idempotent()) return;
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end() || it->second.epoch != ids.epoch) return;
  auto& in_flight = it->second.in_flight;
  auto f = std::find(in_flight.begin(), in_flight.end(), ids);
  if (f != in_flight.end()) in_flight.erase(f);
  remember(it->second, ids, base);
}

void producer_state_table::on_failed(const producer_batch_ids& ids) {
  if (!ids.idempotent()) return;
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end()) return;
  auto& in_flight = it->second.in_flight;
  auto f = std::find(in_flight.begin(), in_flight.end(), ids);
  if (f != in_flight.end()) in_flight.erase(f);
}

void producer_state_table::restore(const batch_header& h) {
  const auto ids = producer_batch_ids::of(h);
  if (!ids.idempotent()) return;
  producer_entry& e = producers_[ids.producer_id];
  if (ids.epoch < e.epoch) return;
  if (ids.epoch > e.epoch) {
    e = producer_entry{};
    e.epoch = ids.epoch;
  }
  e.restored = true;
  remember(e, ids, h.base_offset);
}

bool producer_state_table::may_predate_restored_state(const producer_batch_ids& ids) const {
  if (!ids.idempotent()) return false;
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end()) return true;
  const producer_entry& e = it->second;
  if (!e.restored || ids.epoch != e.epoch || e.stored.empty()) return false;
  // (A producer whose sequences wrapped past INT32_MAX since its oldest remembered batch is
  // not looked for; it would need 2^31 records within the last segments.)
  return ids.first_sequence < e.stored.front().first_sequence;
}

std::optional<offset> producer_state_table::older_than_remembered(
    const producer_batch_ids& ids) const {
  if (!ids.idempotent()) return std::nullopt;
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end()) return std::nullopt;
  const producer_entry& e = it->second;
  if (ids.epoch != e.epoch || e.stored.empty()) return std::nullopt;
  // (Sequences that wrapped past INT32_MAX since that batch are not looked for.)
  if (ids.first_sequence >= e.stored.front().first_sequence) return std::nullopt;
  return e.stored.front().base;
}

void producer_state_table::adopt_in_flight(const producer_state_table& live) {
  for (const auto& [id, l] : live.producers_) {
    if (l.in_flight.empty()) continue;
    producer_entry& e = producers_[id];
    if (l.epoch > e.epoch) {
      e = producer_entry{};
      e.epoch = l.epoch;
    }
    e.in_flight = l.in_flight;
  }
}

void producer_state_table::remember(producer_entry& e, const producer_batch_ids& ids, offset base) {
  e.stored.push_back({ids.first_sequence, ids.last_sequence, base});
  while (e.stored.size() > remembered_batches) e.stored.pop_front();
}

}  // namespace sluice
