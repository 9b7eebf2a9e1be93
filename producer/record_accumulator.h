#pragma once
// The record accumulator: records waiting to be sent, grouped per partition into batches, and
// the memory they hold.
//
// Threading: append(), flush() and buffered_bytes() may be called from any thread; the rest is
// for the sender on the io thread. One mutex guards everything; appending a record holds it for
// the encoding of that one record (no allocation beyond the batch's own growth), and the sender
// is woken once per batch (created or full), not per record.
//
// Memory: a record's size (record_size_upper_bound) counts against buffer_memory from append()
// until its batch is done (acknowledged or failed, release_memory()). append() waits for space
// up to a deadline, then fails with buffer_full.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "producer/partitioner.h"
#include "producer/producer_batch.h"
#include "protocol/result.h"

namespace sluice::producer_internal {

class record_accumulator {
 public:
  struct options {
    std::size_t batch_size = 64 * 1024;
    std::size_t buffer_memory = 64ULL << 20;
    std::chrono::milliseconds linger{5};
    record_batch_builder::options batch_options;
    // Wakes the sender: called (without the lock held) when a batch was created or became
    // full, and when a flush starts. Any thread; must not block.
    std::function<void()> wake;
  };
  static constexpr std::int32_t any_partition = -1;
  // Whether the sender takes batches of this partition now (it may be retrying an earlier one).
  using partition_filter = std::function<bool(const std::string& topic, std::int32_t partition)>;

  explicit record_accumulator(options opts);
  record_accumulator(const record_accumulator&) = delete;
  record_accumulator& operator=(const record_accumulator&) = delete;

  // Any thread. Appends r to the open batch of (topic, partition), or starts a new one when
  // there is none or it has no room for r (a record larger than batch_size gets a batch of its
  // own). partition any_partition: the topic's sticky partition (partitioner.h).
  // Waits until `deadline` for buffer memory (not at all when !may_block). Fails with
  // buffer_full or client_closed, and then drops cb without calling it.
  // REQUIRES: partition < partition_count; size = record_size_upper_bound(r) <= buffer_memory.
  [[nodiscard]] result<void> append(const std::string& topic, std::int32_t partition,
                                    std::int32_t partition_count, const producer_record& r,
                                    std::int64_t timestamp, std::size_t size, producer::callback cb,
                                    clock::time_point deadline, bool may_block);

  // Io thread. Removes and returns at most one batch per partition that may send: its oldest
  // full batch, else its open batch once `linger` has passed since it was created (at once
  // while a flush is in progress). Stops before max_bytes (estimated) but returns at least one
  // ready batch. The batches come out unsealed.
  [[nodiscard]] std::vector<batch_ptr> drain(clock::time_point now,
                                             const partition_filter& may_send,
                                             std::size_t max_bytes);
  // Io thread. When drain() will next find a batch of a partition that may send (now if one is
  // ready); nullopt when no such batch exists.
  [[nodiscard]] std::optional<clock::time_point> next_ready(clock::time_point now,
                                                            const partition_filter& may_send);
  // Io thread. Removes and returns the batches created at or before `cutoff` (their delivery
  // timeout has passed), and tells when the oldest remaining one was created.
  [[nodiscard]] std::vector<batch_ptr> expire(clock::time_point cutoff);
  [[nodiscard]] std::optional<clock::time_point> oldest_created() const;
  // Io thread. Removes and returns every batch; later appends fail with client_closed, and so
  // do appends waiting for memory.
  [[nodiscard]] std::vector<batch_ptr> close();

  // Io thread: a batch is done. Its memory returns first (before its callbacks run, so a
  // callback's send() finds room), then batch_done() (after them, so flush() returns only once
  // every callback ran).
  void release_memory(std::size_t bytes);
  void batch_done(std::uint64_t batch_id);
  // Io thread: a batch not done yet became `parts` batches with its id (the sender split it):
  // flush() waits for each of them, and each reports batch_done().
  void batch_split(std::uint64_t batch_id, std::size_t parts);

  // Any thread but the io thread. Makes every batch ready at once and waits until every batch
  // that existed when flush() was called is done. Fails with timed_out after `deadline`.
  [[nodiscard]] result<void> flush(clock::time_point deadline);

  [[nodiscard]] std::size_t buffered_bytes() const;
  // Batches not yet drained.
  [[nodiscard]] std::size_t batches_waiting() const;
  // Callers inside append() or flush() waiting now (for tests and statistics).
  [[nodiscard]] int blocked_callers() const;

 private:
  struct partition_slot {
    batch_ptr open;
    std::deque<batch_ptr> full;  // closed to new records, oldest first
  };
  struct topic_slots {
    std::string name;
    std::vector<partition_slot> partitions;
    sticky_partitioner sticky;
    std::size_t drain_start = 0;  // rotates, so no partition starves when max_bytes cuts a drain
  };

  result<void> wait_for_memory(std::unique_lock<std::mutex>& lock, std::size_t size,
                               clock::time_point deadline, bool may_block);
  topic_slots& slots_for(const std::string& topic, std::int32_t partition_count);
  // Among the topic's partition_count partitions now: a topic deleted and created again with
  // fewer keeps its larger slot list here, whose last partitions are gone.
  std::int32_t sticky_partition(topic_slots& t, std::size_t size, std::int32_t partition_count);
  [[nodiscard]] bool fits(const producer_batch& b, std::size_t size) const;
  // The batch drain() would take from slot, or nullptr.
  batch_ptr* ready_batch(partition_slot& slot, clock::time_point now);
  void notify_waiters();

  options opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // memory returned, a batch done, closed
  std::unordered_map<std::string, std::unique_ptr<topic_slots>> topics_;
  std::vector<topic_slots*> topic_order_;
  std::size_t drain_start_ = 0;
  std::size_t used_memory_ = 0;
  std::uint64_t next_batch_id_ = 1;
  std::multiset<std::uint64_t> incomplete_;  // ids of batches not done yet (split: per part)
  int flushing_ = 0;
  int waiters_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::producer_internal
