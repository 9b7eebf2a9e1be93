#pragma once
// A broker-wide cap on the page cache its logs keep behind their durable ends, shared evenly
// among the logs written to lately: each keeps at most min(its topic's page.cache.keep.bytes,
// total / active logs).
//
// Why: page.cache.keep.bytes alone bounds one log, and 1 000 partitions with 64 MiB each never
// reach it, so nothing was dropped and every write took a fresh page (on this project's test
// machines a page the guest has not used lately costs a host fault; cache_drop_behind.h). With
// the 512 MiB default (512 KiB each), workload 5 (1 000 partitions, relaxed) ran at a median
// 454 k records/s against 319 k with no cap, the broker using 4.0 CPU seconds against 6.2
// (perf/RESULTS.md, "A broker-wide page cache budget").
//
// A log is active from its first durable advance until idle_after passes without one; then it
// leaves the count, so one busy partition among many idle ones keeps the whole budget (up to its
// topic's setting), and it drops what it kept: its consumers have had idle_after to read it.
// Idleness is noticed by a periodic check (the broker's shards run it every second).
//
// Thread-safe: logs on every shard join, count and leave, each on its own thread; one share
// is used by one log's thread only.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace sluice {

class page_cache_budget {
 public:
  static constexpr std::chrono::milliseconds idle_after{10'000};

  // total_bytes >= 0 (a broker without a cap makes no budget: broker_config).
  explicit page_cache_budget(std::int64_t total_bytes) : total_bytes_(total_bytes) {}

  // A log's place in the budget.
  class share {
   public:
    explicit share(std::shared_ptr<page_cache_budget> budget);
    ~share();
    share(const share&) = delete;
    share& operator=(const share&) = delete;

    // The log's durable end moved at `now_ms`: it counts as active.
    void note_durable(std::int64_t now_ms);
    // Whether the log just became idle (active, no durable advance for idle_after): it no
    // longer counts, and should drop what it kept.
    [[nodiscard]] bool expire_if_idle(std::int64_t now_ms);
    // What a log whose topic keeps `topic_keep_bytes` may keep now (-1: everything).
    [[nodiscard]] std::int64_t keep_bytes(std::int64_t topic_keep_bytes) const;

   private:
    std::shared_ptr<page_cache_budget> budget_;
    bool active_ = false;
    std::int64_t last_durable_ms_ = 0;
  };

  [[nodiscard]] std::size_t active_logs() const { return active_.load(std::memory_order_relaxed); }

 private:
  const std::int64_t total_bytes_;
  std::atomic<std::size_t> active_{0};
};

}  // namespace sluice
