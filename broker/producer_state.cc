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

template <class InFlight>
auto find_in_flight(InFlight& in_flight, const producer_batch_ids& ids) {
  return std::find_if(in_flight.begin(), in_flight.end(),
                      [&](const auto& f) { return f.ids == ids; });
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
    if (f.ids.first_sequence == ids.first_sequence && f.ids.last_sequence == ids.last_sequence) {
      return verdict{verdict::kind::duplicate_in_flight, offset{-1}};
    }
  }
  std::optional<std::int32_t> newest;
  if (!e.in_flight.empty()) {
    newest = e.in_flight.back().ids.last_sequence;
  } else if (!e.stored.empty()) {
    newest = e.stored.back().last_sequence;
  }
  if (!newest || ids.first_sequence == next_sequence(*newest)) return verdict{};
  return make_error(
      broker_errc::out_of_order_sequence,
      fmt::format("producer {} epoch {}: batch starts at sequence {}, expected {}", ids.producer_id,
                  ids.epoch, ids.first_sequence, next_sequence(*newest)));
}

std::uint64_t producer_state_table::on_submitted(const producer_batch_ids& ids, offset base) {
  const std::uint64_t attempt = next_attempt_++;
  if (!ids.idempotent()) return attempt;
  producer_entry& e = producers_[ids.producer_id];
  if (ids.epoch > e.epoch) {
    e = producer_entry{};
    e.epoch = ids.epoch;
  }
  e.in_flight.push_back({ids, base, attempt});
  return attempt;
}

void producer_state_table::on_stored(const producer_batch_ids& ids, offset base,
                                     std::int64_t stored_at_ms) {
  if (!ids.idempotent()) return;
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end() || it->second.epoch != ids.epoch) return;
  auto& in_flight = it->second.in_flight;
  auto f = find_in_flight(in_flight, ids);
  if (f != in_flight.end()) in_flight.erase(f);
  it->second.last_timestamp = std::max(it->second.last_timestamp, stored_at_ms);
  remember(it->second, ids, base);
}

void producer_state_table::on_failed(const producer_batch_ids& ids, std::uint64_t attempt) {
  if (!ids.idempotent()) return;
  auto it = producers_.find(ids.producer_id);
  if (it == producers_.end()) return;
  std::erase_if(it->second.in_flight,
                [&](const in_flight_batch& b) { return b.attempt == attempt; });
}

void producer_state_table::forget_in_flight_from(producer_entry& e, offset log_end) {
  std::erase_if(e.in_flight, [&](const in_flight_batch& b) { return b.base >= log_end; });
}

void producer_state_table::forget_unwritten(std::int64_t producer_id, offset log_end) {
  auto it = producers_.find(producer_id);
  if (it != producers_.end()) forget_in_flight_from(it->second, log_end);
}

void producer_state_table::forget_all_unwritten(offset log_end) {
  for (auto& [id, entry] : producers_) forget_in_flight_from(entry, log_end);
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
  e.last_timestamp = std::max(e.last_timestamp, h.max_timestamp);
  remember(e, ids, h.base_offset);
}

void producer_state_table::restore(const remembered_producer& p) {
  producer_entry& e = producers_[p.producer_id];
  e = producer_entry{};
  e.epoch = p.epoch;
  e.last_timestamp = p.last_timestamp;
  e.restored = true;
  const auto keep = std::min(p.batches.size(), remembered_batches);
  e.stored.assign(p.batches.end() - static_cast<std::ptrdiff_t>(keep), p.batches.end());
}

std::vector<producer_state_table::remembered_producer> producer_state_table::remembered(
    offset below) const {
  return remembered_below(below, false);
}

std::vector<producer_state_table::remembered_producer>
producer_state_table::remembered_acknowledged(offset below) const {
  return remembered_below(below, true);
}

std::vector<producer_state_table::remembered_producer> producer_state_table::remembered_below(
    offset below, bool with_in_flight) const {
  std::vector<remembered_producer> out;
  out.reserve(producers_.size());
  for (const auto& [id, e] : producers_) {
    remembered_producer p{id, e.epoch, e.last_timestamp, {}};
    for (const auto& b : e.stored) {
      if (b.base < below) p.batches.push_back(b);
    }
    if (with_in_flight) {
      // In flight means newer than every stored batch: appended after them.
      for (const auto& f : e.in_flight) {
        if (f.base < below) {
          p.batches.push_back({f.ids.first_sequence, f.ids.last_sequence, f.base});
        }
      }
    }
    if (p.batches.size() > remembered_batches) {
      p.batches.erase(p.batches.begin(),
                      p.batches.end() - static_cast<std::ptrdiff_t>(remembered_batches));
    }
    if (!p.batches.empty()) out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.producer_id < b.producer_id; });
  return out;
}

void producer_state_table::expire_older_than(std::int64_t timestamp) {
  std::erase_if(producers_, [timestamp](const auto& entry) {
    const producer_entry& e = entry.second;
    return e.in_flight.empty() && e.last_timestamp >= 0 && e.last_timestamp < timestamp;
  });
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

void producer_state_table::take_dates_from(const producer_state_table& live) {
  for (const auto& [id, l] : live.producers_) {
    auto found = producers_.find(id);
    if (found != producers_.end() && found->second.epoch == l.epoch) {
      found->second.last_timestamp = std::max(found->second.last_timestamp, l.last_timestamp);
    }
  }
}

void producer_state_table::adopt_in_flight(const producer_state_table& live) {
  take_dates_from(live);
  for (const auto& [id, l] : live.producers_) {
    if (l.in_flight.empty()) continue;
    producer_entry& e = producers_[id];
    if (l.epoch > e.epoch) {
      e = producer_entry{};
      e.epoch = l.epoch;
      e.last_timestamp = l.last_timestamp;
    }
    e.in_flight = l.in_flight;
  }
  next_attempt_ = live.next_attempt_;
}

void producer_state_table::remember(producer_entry& e, const producer_batch_ids& ids, offset base) {
  // A batch seen twice is remembered once: a snapshot, then the log it was built from; or a
  // whole-log rebuild that read a batch whose acknowledgement was still queued, then that
  // acknowledgement (adopt_in_flight). Twice, it would take two of the ten places.
  if (std::any_of(e.stored.begin(), e.stored.end(),
                  [&](const stored_batch& s) { return s.base == base; })) {
    return;
  }
  e.stored.push_back({ids.first_sequence, ids.last_sequence, base});
  while (e.stored.size() > remembered_batches) e.stored.pop_front();
}

}  // namespace sluice
