#include "producer/record_accumulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <utility>

#include "protocol/client/client_errc.h"

namespace sluice::producer_internal {

record_accumulator::record_accumulator(options opts) : opts_(std::move(opts)) {
  SLUICE_ASSERT(opts_.wake != nullptr);
}

result<void> record_accumulator::append(const std::string& topic, std::int32_t partition,
                                        std::int32_t partition_count, const producer_record& r,
                                        std::int64_t timestamp, std::size_t size,
                                        producer::callback cb, clock::time_point deadline,
                                        bool may_block) {
  SLUICE_ASSERT(partition < partition_count && size <= opts_.buffer_memory);
  std::unique_lock lock(mu_);
  if (auto m = wait_for_memory(lock, size, deadline, may_block); !m) return m;
  auto& t = slots_for(topic, partition_count);
  const bool sticky = partition == any_partition;
  if (sticky) partition = sticky_partition(t, size, partition_count);
  auto& slot = t.partitions[static_cast<std::size_t>(partition)];
  bool wake = false;
  if (slot.open && !fits(*slot.open, size)) {
    slot.full.push_back(std::move(slot.open));
    wake = true;
  }
  if (!slot.open) {
    const auto id = next_batch_id_++;
    slot.open = std::make_shared<producer_batch>(topic_partition{topic, partition}, id,
                                                 clock::now(), opts_.batch_options);
    incomplete_.insert(id);
    wake = true;  // the sender arms its linger timer
  }
  slot.open->add(r, timestamp, size, std::move(cb));
  used_memory_ += size;
  if (sticky) t.sticky.set_batch_id(slot.open->id());
  if (slot.open->estimated_bytes() >= opts_.batch_size) {
    slot.full.push_back(std::move(slot.open));
    wake = true;
  }
  lock.unlock();
  if (wake) opts_.wake();
  return {};
}

result<void> record_accumulator::wait_for_memory(std::unique_lock<std::mutex>& lock,
                                                 std::size_t size, clock::time_point deadline,
                                                 bool may_block) {
  const auto fits_now = [&] { return closed_ || used_memory_ + size <= opts_.buffer_memory; };
  if (!fits_now() && may_block) {
    ++waiters_;
    cv_.wait_until(lock, deadline, fits_now);
    --waiters_;
  }
  if (closed_) return make_error(client_errc::client_closed, "producer closed");
  if (!fits_now()) {
    return make_error(client_errc::buffer_full,
                      fmt::format("no room for a record of {} bytes: {} of buffer_memory {} bytes "
                                  "await acknowledgement{}",
                                  size, used_memory_, opts_.buffer_memory,
                                  may_block ? "" : " (a callback's send() cannot wait)"));
  }
  return {};
}

record_accumulator::topic_slots& record_accumulator::slots_for(const std::string& topic,
                                                               std::int32_t partition_count) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    auto t = std::make_unique<topic_slots>();
    t->name = topic;
    // Producers start their null-key records on different partitions.
    t->sticky = sticky_partitioner(std::random_device{}());
    topic_order_.push_back(t.get());
    it = topics_.emplace(topic, std::move(t)).first;
  }
  auto& partitions = it->second->partitions;
  if (partitions.size() < static_cast<std::size_t>(partition_count)) {
    partitions.resize(static_cast<std::size_t>(partition_count));
  }
  return *it->second;
}

std::int32_t record_accumulator::sticky_partition(topic_slots& t, std::size_t size,
                                                  std::int32_t partition_count) {
  const auto current = t.sticky.current();
  bool still_open = false;
  if (current >= 0 && current < partition_count) {
    const auto& open = t.partitions[static_cast<std::size_t>(current)].open;
    still_open = open && open->id() == t.sticky.batch_id() && fits(*open, size);
  }
  return t.sticky.choose(partition_count, still_open);
}

bool record_accumulator::fits(const producer_batch& b, std::size_t size) const {
  return b.record_count() == 0 || b.estimated_bytes() + size <= opts_.batch_size;
}

batch_ptr* record_accumulator::ready_batch(partition_slot& slot, clock::time_point now) {
  if (!slot.full.empty()) return &slot.full.front();
  if (slot.open && (flushing_ > 0 || now >= slot.open->created() + opts_.linger)) {
    return &slot.open;
  }
  return nullptr;
}

std::vector<batch_ptr> record_accumulator::drain(clock::time_point now,
                                                 const partition_filter& may_send,
                                                 std::size_t max_bytes) {
  std::vector<batch_ptr> out;
  std::size_t bytes = 0;
  std::lock_guard lock(mu_);
  const auto topics = topic_order_.size();
  for (std::size_t i = 0; i < topics; ++i) {
    auto& t = *topic_order_[(drain_start_ + i) % topics];
    const auto partitions = t.partitions.size();
    for (std::size_t j = 0; j < partitions; ++j) {
      const auto p = (t.drain_start + j) % partitions;
      auto& slot = t.partitions[p];
      batch_ptr* ready = ready_batch(slot, now);
      if (ready == nullptr || !may_send(t.name, static_cast<std::int32_t>(p))) continue;
      if (!out.empty() && bytes + (*ready)->estimated_bytes() > max_bytes) {
        drain_start_ = (drain_start_ + i) % topics;
        t.drain_start = p;
        return out;  // the next drain starts here
      }
      bytes += (*ready)->estimated_bytes();
      out.push_back(std::move(*ready));
      if (ready != &slot.open) slot.full.pop_front();
    }
    t.drain_start = partitions == 0 ? 0 : (t.drain_start + 1) % partitions;
  }
  drain_start_ = topics == 0 ? 0 : (drain_start_ + 1) % topics;
  return out;
}

std::optional<clock::time_point> record_accumulator::next_ready(clock::time_point now,
                                                                const partition_filter& may_send) {
  std::optional<clock::time_point> next;
  std::lock_guard lock(mu_);
  for (auto* t : topic_order_) {
    for (std::size_t p = 0; p < t->partitions.size(); ++p) {
      const auto& slot = t->partitions[p];
      if (slot.full.empty() && !slot.open) continue;
      if (!may_send(t->name, static_cast<std::int32_t>(p))) continue;
      const auto at =
          !slot.full.empty() || flushing_ > 0 ? now : slot.open->created() + opts_.linger;
      if (!next || at < *next) next = at;
    }
  }
  return next;
}

std::vector<batch_ptr> record_accumulator::expire(clock::time_point cutoff) {
  std::vector<batch_ptr> out;
  std::lock_guard lock(mu_);
  for (auto* t : topic_order_) {
    for (auto& slot : t->partitions) {
      while (!slot.full.empty() && slot.full.front()->created() <= cutoff) {
        out.push_back(std::move(slot.full.front()));
        slot.full.pop_front();
      }
      // Batches are created in order: the open one is the youngest of the partition.
      if (slot.full.empty() && slot.open && slot.open->created() <= cutoff) {
        out.push_back(std::move(slot.open));
      }
    }
  }
  return out;
}

std::optional<clock::time_point> record_accumulator::oldest_created() const {
  std::optional<clock::time_point> oldest;
  std::lock_guard lock(mu_);
  for (const auto* t : topic_order_) {
    for (const auto& slot : t->partitions) {
      const producer_batch* first = !slot.full.empty() ? slot.full.front().get() : slot.open.get();
      if (first != nullptr && (!oldest || first->created() < *oldest)) oldest = first->created();
    }
  }
  return oldest;
}

std::vector<batch_ptr> record_accumulator::close() {
  std::vector<batch_ptr> out;
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto* t : topic_order_) {
    for (auto& slot : t->partitions) {
      for (auto& b : slot.full) out.push_back(std::move(b));
      slot.full.clear();
      if (slot.open) out.push_back(std::move(slot.open));
    }
  }
  cv_.notify_all();
  return out;
}

void record_accumulator::release_memory(std::size_t bytes) {
  std::lock_guard lock(mu_);
  SLUICE_ASSERT(used_memory_ >= bytes);
  used_memory_ -= bytes;
  notify_waiters();
}

void record_accumulator::batch_done(std::uint64_t batch_id) {
  std::lock_guard lock(mu_);
  auto it = incomplete_.find(batch_id);
  if (it != incomplete_.end()) incomplete_.erase(it);
  notify_waiters();
}

void record_accumulator::batch_split(std::uint64_t batch_id, std::size_t parts) {
  std::lock_guard lock(mu_);
  SLUICE_ASSERT(parts >= 1 && incomplete_.contains(batch_id));
  for (std::size_t i = 1; i < parts; ++i) incomplete_.insert(batch_id);
}

void record_accumulator::notify_waiters() {
  if (waiters_ > 0) cv_.notify_all();
}

result<void> record_accumulator::flush(clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const auto last = next_batch_id_ - 1;
  ++flushing_;
  lock.unlock();
  opts_.wake();
  lock.lock();
  const auto flushed = [&] { return incomplete_.empty() || *incomplete_.begin() > last; };
  ++waiters_;
  const bool ok = cv_.wait_until(lock, deadline, flushed);
  --waiters_;
  --flushing_;
  if (ok) return {};
  const auto pending = std::count_if(incomplete_.begin(), incomplete_.end(),
                                     [&](std::uint64_t id) { return id <= last; });
  return make_error(
      client_errc::timed_out,
      fmt::format("flush: {} batches still without an outcome at the deadline", pending));
}

std::size_t record_accumulator::buffered_bytes() const {
  std::lock_guard lock(mu_);
  return used_memory_;
}

std::size_t record_accumulator::batches_waiting() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto* t : topic_order_) {
    for (const auto& slot : t->partitions) n += slot.full.size() + (slot.open ? 1 : 0);
  }
  return n;
}

int record_accumulator::blocked_callers() const {
  std::lock_guard lock(mu_);
  return waiters_;
}

}  // namespace sluice::producer_internal
