#pragma once
// Drops what a partition's active segment has made durable from the page cache, all but the
// last `page.cache.keep.bytes` behind the durable end, so the log's page cache stops growing
// with everything ever written and the kernel hands the same pages out again.
//
// Why: on this project's test machines (virtual machines whose free memory goes back to the
// host, and whose cold page cache a DAMON scheme pages out) a page the guest has not used lately
// costs a fault on the host when the page cache takes it: a log writing into fresh pages ran at
// 130-430 MiB/s where the same writes into recycled pages ran at 600-750 (perf/RESULTS.md,
// "Page cache drop-behind"). Consumers that keep up read the kept bytes from memory; a consumer
// further behind reads from the disk, as it would once the kernel evicted them anyway.
//
// The drops go through the backend (io::backend::drop_cache_later), never on the shard's
// thread, in steps of at least step_bytes(keep): a quarter of what is kept, between
// min_step_bytes and max_step_bytes, so a log keeping little also drops in small steps. Each
// drop reaches back largest_folio_bytes over the previous one: the kernel drops only whole
// folios (ext4 caches a file in folios of up to 2 MiB), so a folio straddling the previous
// drop's end was left, and only a range covering all of it drops it.
//
// A rolled segment keeps its cached tail (what was within the kept bytes of the durable end when
// the log rolled) until the bytes made durable after it reach the kept amount; then the rest of
// it is dropped in one go, down to its end. Without that every roll left up to
// page.cache.keep.bytes cached for good, and a log rolling often kept far more than its share.
//
// Owned by one partition_log and used on its shard's thread only.

#include <cstdint>
#include <deque>
#include <functional>

#include "protocol/strong_types.h"

namespace sluice {

namespace io {
class backend;
}
class log_file;

class cache_drop_behind {
 public:
  static constexpr std::uint64_t min_step_bytes = 64U << 10;
  static constexpr std::uint64_t max_step_bytes = 4U << 20;
  static constexpr std::uint64_t largest_folio_bytes = 2U << 20;
  [[nodiscard]] static std::uint64_t step_bytes(std::uint64_t keep_bytes);

  // The .log of the segment based at an offset, or nullptr once it is gone (deleted by
  // retention, cut away by truncation).
  using file_lookup = std::function<const log_file*(offset segment_base)>;

  // The segment based at `base` stopped being the active one at `size` bytes. keep_bytes < 0:
  // the log keeps everything, and nothing rolled is remembered.
  void on_roll(offset base, std::uint64_t size, std::int64_t keep_bytes);

  // The log is durable up to file position `durable_end` of the segment based at
  // `segment_base`: drops what lies more than `keep_bytes` behind that end (in this segment and
  // in rolled ones) and was not dropped yet. keep_bytes < 0: keeps everything.
  void on_durable(io::backend& io, offset segment_base, std::uint64_t durable_end,
                  std::int64_t keep_bytes, const file_lookup& file_of);

 private:
  struct rolled_segment {
    offset base;
    std::uint64_t size;
    std::uint64_t dropped_to;  // where its drops had got to when the durable end left it
  };

  void drop_rolled_behind(io::backend& io, offset durable_segment, std::uint64_t durable_end,
                          std::uint64_t keep, const file_lookup& file_of);

  offset segment_{-1};  // the segment holding the durable end, where drops go on
  std::uint64_t dropped_to_ = 0;
  std::deque<rolled_segment> rolled_;  // by base offset, oldest first
};

}  // namespace sluice
