#pragma once
// The hand-over between a consumer's io thread, which fetches and decodes, and the thread that
// calls poll(): a queue of decoded chunks plus each partition's consumed position and high
// watermark.
//
// Threading: every method locks one mutex; the io thread pushes and resets, the polling thread
// takes records. poll() takes a whole poll's worth of records under one lock (no per-record
// locking).
// Memory: bytes() is the footprint of the records waiting (record_footprint), counted from the
// moment the io thread reserves room for a fetch answer until poll() has taken the chunk.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "consumer/consumer.h"
#include "protocol/result.h"

namespace sluice::consumer_detail {

// What poll() knows of one assigned partition. Guarded by the fetch_buffer's mutex.
struct partition_view {
  topic_partition tp;
  // The offset of the next record poll() returns; nullopt until the first reset or seek.
  std::optional<std::int64_t> position;
  std::optional<std::int64_t> high_watermark;  // from the latest fetch answer
};

// Records of one partition from one fetch answer, then maybe the error that ended them. A chunk
// without records and error only moves the position (after an offset reset).
struct fetched_chunk {
  std::shared_ptr<partition_view> partition;  // null: an error that concerns no one partition
  std::vector<consumer_record> records;
  std::size_t next_record = 0;      // poll()'s cursor
  std::int64_t next_position = -1;  // the partition's position once the chunk is consumed
  std::size_t bytes = 0;            // what the chunk counts in bytes()
  std::optional<error> failure;     // delivered by poll() after the records
};

class fetch_buffer {
 public:
  // on_room runs on the polling thread, outside the lock, when poll() frees room after the io
  // thread found the buffer full (has_room() returned false): it posts a fetch to the io thread.
  fetch_buffer(std::size_t max_bytes, std::function<void()> on_room);

  // ---- io thread ----
  std::shared_ptr<partition_view> add_partition(const topic_partition& tp);
  // Drops the partition and its chunks.
  void remove_partition(const std::shared_ptr<partition_view>& p);
  // A seek: drops the partition's chunks; position() is `position` at once.
  void seek(const std::shared_ptr<partition_view>& p, std::int64_t position);
  // An automatic offset reset: position() becomes `position` after the partition's chunks
  // already queued have been polled (at once when there are none).
  void reset(const std::shared_ptr<partition_view>& p, std::int64_t position);
  void set_high_watermark(const std::shared_ptr<partition_view>& p, std::int64_t hw);
  // Whether bytes() is below the limit; when not, on_room fires once room frees up.
  [[nodiscard]] bool has_room();
  // Counts `bytes` for an answer being decoded; its chunk's push() passes them back.
  void reserve(std::size_t bytes);
  // Gives back a reservation whose answer is dropped (stale).
  void release(std::size_t bytes);
  void push(fetched_chunk chunk, std::size_t reserved = 0);
  // Several chunks in this order, under one lock and with one wake-up.
  void push(std::vector<fetched_chunk> chunks, std::size_t reserved);
  // poll() then fails with `why` (client_closed) at once, also a poll() waiting now.
  void close(const error& why);

  // ---- polling thread ----
  // Up to max_records records, waiting up to timeout for the first; an error chunk's failure
  // once the records before it were returned. Empty after the timeout. A chunk's records are
  // returned by one poll() unless the chunk alone holds more than max_records.
  [[nodiscard]] result<std::vector<consumer_record>> poll(std::chrono::milliseconds timeout,
                                                          std::size_t max_records);
  [[nodiscard]] std::optional<std::int64_t> position(const topic_partition& tp) const;
  [[nodiscard]] std::optional<std::int64_t> high_watermark(const topic_partition& tp) const;
  [[nodiscard]] std::size_t bytes() const;

 private:
  // Takes records from the front chunks into out; returns a failure to deliver now, if any.
  std::optional<error> take_locked(std::vector<consumer_record>& out, std::size_t max_records);
  void pop_front_locked();
  void drop_chunks_locked(const std::shared_ptr<partition_view>& p);

  const std::size_t max_bytes_;
  const std::function<void()> on_room_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::map<topic_partition, std::shared_ptr<partition_view>> partitions_;
  std::deque<fetched_chunk> chunks_;
  std::size_t bytes_ = 0;
  bool waiting_for_room_ = false;
  bool room_freed_ = false;  // set under the lock by pop; on_room_ runs after unlocking
  std::optional<error> closed_;
};

}  // namespace sluice::consumer_detail
