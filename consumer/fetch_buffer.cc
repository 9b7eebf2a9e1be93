#include "consumer/fetch_buffer.h"

#include <algorithm>
#include <iterator>

namespace sluice::consumer_detail {
namespace {

// Moves the chunk's records not taken yet to out, as many as fit in max_records; how many.
std::size_t take_records(fetched_chunk& c, std::vector<consumer_record>& out,
                         std::size_t max_records) {
  const std::size_t left = c.records.size() - c.next_record;
  if (out.empty() && c.next_record == 0 && left <= max_records) {
    out.swap(c.records);  // the whole chunk at once: no record moves
    c.records.clear();
    return left;
  }
  const auto take = std::min(left, max_records - out.size());
  const auto first = c.records.begin() + static_cast<std::ptrdiff_t>(c.next_record);
  out.insert(out.end(), std::make_move_iterator(first),
             std::make_move_iterator(first + static_cast<std::ptrdiff_t>(take)));
  c.next_record += take;
  return take;
}

// now + timeout, at most a century away: a timeout meant as "forever" (milliseconds::max())
// overflows the clock's nanoseconds into a deadline in the past, and poll() would return at
// once, every time.
std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  constexpr std::chrono::milliseconds century = std::chrono::hours(24 * 365 * 100);
  return std::chrono::steady_clock::now() + std::min(timeout, century);
}

}  // namespace

fetch_buffer::fetch_buffer(std::size_t max_bytes, std::function<void()> on_room)
    : max_bytes_(max_bytes), on_room_(std::move(on_room)) {}

std::shared_ptr<partition_view> fetch_buffer::add_partition(const topic_partition& tp) {
  auto p = std::make_shared<partition_view>();
  p->tp = tp;
  std::lock_guard lock(mutex_);
  partitions_[tp] = p;
  return p;
}

void fetch_buffer::remove_partition(const std::shared_ptr<partition_view>& p) {
  std::lock_guard lock(mutex_);
  drop_chunks_locked(p);
  if (auto it = partitions_.find(p->tp); it != partitions_.end() && it->second == p) {
    partitions_.erase(it);
  }
}

void fetch_buffer::seek(const std::shared_ptr<partition_view>& p, std::int64_t position) {
  std::lock_guard lock(mutex_);
  drop_chunks_locked(p);
  p->position = position;
}

void fetch_buffer::reset(const std::shared_ptr<partition_view>& p, std::int64_t position) {
  {
    std::lock_guard lock(mutex_);
    const bool queued = std::any_of(chunks_.begin(), chunks_.end(),
                                    [&](const fetched_chunk& c) { return c.partition == p; });
    if (!queued) {
      p->position = position;
      return;
    }
  }
  fetched_chunk marker;
  marker.partition = p;
  marker.next_position = position;
  push(std::move(marker));
}

void fetch_buffer::set_high_watermark(const std::shared_ptr<partition_view>& p, std::int64_t hw) {
  std::lock_guard lock(mutex_);
  p->high_watermark = hw;
}

bool fetch_buffer::has_room() {
  std::lock_guard lock(mutex_);
  if (bytes_ < max_bytes_) return true;
  waiting_for_room_ = true;
  return false;
}

void fetch_buffer::reserve(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  bytes_ += bytes;
}

void fetch_buffer::release(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  bytes_ -= std::min(bytes_, bytes);
}

void fetch_buffer::push(fetched_chunk chunk, std::size_t reserved) {
  std::vector<fetched_chunk> one;
  one.push_back(std::move(chunk));
  push(std::move(one), reserved);
}

void fetch_buffer::push(std::vector<fetched_chunk> chunks, std::size_t reserved) {
  {
    std::lock_guard lock(mutex_);
    bytes_ -= std::min(bytes_, reserved);
    for (auto& c : chunks) {
      bytes_ += c.bytes;
      chunks_.push_back(std::move(c));
    }
  }
  ready_.notify_one();
}

void fetch_buffer::close(const error& why) {
  {
    std::lock_guard lock(mutex_);
    closed_ = why;
  }
  ready_.notify_all();
}

result<std::vector<consumer_record>> fetch_buffer::poll(std::chrono::milliseconds timeout,
                                                        std::size_t max_records) {
  const auto deadline = deadline_after(timeout);
  std::vector<consumer_record> out;
  std::optional<error> failure;
  bool room_freed = false;
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (closed_) return *closed_;
      failure = take_locked(out, max_records);
      if (failure || !out.empty()) break;
      if (!ready_.wait_until(lock, deadline, [&] { return !chunks_.empty() || closed_; })) break;
    }
    room_freed = std::exchange(room_freed_, false);
  }
  if (room_freed && on_room_) on_room_();
  if (failure) return *failure;
  return out;
}

std::optional<error> fetch_buffer::take_locked(std::vector<consumer_record>& out,
                                               std::size_t max_records) {
  while (!chunks_.empty() && out.size() < max_records) {
    fetched_chunk& c = chunks_.front();
    // A chunk that does not fit whole waits for the next poll(), which takes it without moving
    // its records (the io thread cuts answers into chunks of at most max_poll_records).
    if (!out.empty() && c.records.size() - c.next_record > max_records - out.size()) break;
    if (take_records(c, out, max_records) > 0 && c.partition) {
      c.partition->position = out.back().offset + 1;
    }
    if (c.next_record < c.records.size()) break;  // out is full
    if (c.failure && !out.empty()) break;         // the records first; the next poll() fails
    if (c.partition && c.next_position >= 0) c.partition->position = c.next_position;
    auto failure = std::move(c.failure);
    pop_front_locked();
    if (failure) return failure;
  }
  return std::nullopt;
}

void fetch_buffer::pop_front_locked() {
  bytes_ -= std::min(bytes_, chunks_.front().bytes);
  chunks_.pop_front();
  if (waiting_for_room_ && bytes_ < max_bytes_) {
    waiting_for_room_ = false;
    room_freed_ = true;
  }
}

void fetch_buffer::drop_chunks_locked(const std::shared_ptr<partition_view>& p) {
  for (auto it = chunks_.begin(); it != chunks_.end();) {
    if (it->partition == p) {
      bytes_ -= std::min(bytes_, it->bytes);
      it = chunks_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<std::int64_t> fetch_buffer::position(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find(tp);
  return it != partitions_.end() ? it->second->position : std::nullopt;
}

std::optional<std::int64_t> fetch_buffer::high_watermark(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find(tp);
  return it != partitions_.end() ? it->second->high_watermark : std::nullopt;
}

std::size_t fetch_buffer::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace sluice::consumer_detail
