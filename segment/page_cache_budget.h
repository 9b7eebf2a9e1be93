#pragma once
// A broker-wide cap on the page cache its logs keep behind their durable ends, shared evenly:
// each log keeps at most min(its topic's page.cache.keep.bytes, total / logs sharing).
//
// Why: page.cache.keep.bytes alone bounds one log, and 1 000 partitions with 64 MiB each never
// reach it, so nothing was dropped and every write took a fresh page (on this project's test
// machines a page the guest has not used lately costs a host fault; cache_drop_behind.h). With
// the 512 MiB default (512 KiB each), workload 5 (1 000 partitions, relaxed) ran at a median
// 454 k records/s against 319 k with no cap, the broker using 4.0 CPU seconds against 6.2
// (perf/RESULTS.md, "A broker-wide page cache budget").
//
// Every open log counts, written to lately or not: an idle log's share goes unused rather than
// to a busy one, which keeps the rule one line long. The price is skew: one busy partition among
// 999 idle ones keeps 512 KiB, and a consumer further behind it than that reads from the disk.
// Keeping instead the bytes made durable most recently broker-wide (a window in write order,
// each log dropping what fell out of it, idle logs swept by a timer) would not have that price.
// Thread-safe: logs on every shard join and leave, each on its own thread.

#include <atomic>
#include <cstdint>
#include <memory>

namespace sluice {

class page_cache_budget {
 public:
  // total_bytes < 0: no broker-wide cap (each log keeps what its topic says).
  explicit page_cache_budget(std::int64_t total_bytes) : total_bytes_(total_bytes) {}

  // A log's place in the budget: counted while it lives.
  class share {
   public:
    explicit share(std::shared_ptr<page_cache_budget> budget);
    ~share();
    share(const share&) = delete;
    share& operator=(const share&) = delete;
    // What a log whose topic keeps `topic_keep_bytes` may keep now (-1: everything).
    [[nodiscard]] std::int64_t keep_bytes(std::int64_t topic_keep_bytes) const;

   private:
    std::shared_ptr<page_cache_budget> budget_;
  };

  [[nodiscard]] std::int64_t total_bytes() const { return total_bytes_; }
  [[nodiscard]] std::size_t logs() const { return logs_.load(std::memory_order_relaxed); }

 private:
  const std::int64_t total_bytes_;
  std::atomic<std::size_t> logs_{0};
};

}  // namespace sluice
