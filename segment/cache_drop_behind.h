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
// Owned by one partition_log and used on its shard's thread only.

#include <cstdint>
#include <string_view>

#include "protocol/strong_types.h"

namespace sluice {

namespace io {
class backend;
}

class cache_drop_behind {
 public:
  static constexpr std::uint64_t min_step_bytes = 64U << 10;
  static constexpr std::uint64_t max_step_bytes = 4U << 20;
  static constexpr std::uint64_t largest_folio_bytes = 2U << 20;
  [[nodiscard]] static std::uint64_t step_bytes(std::uint64_t keep_bytes);

  // The active segment (based at `segment_base`, its .log open as `fd`) is durable up to file
  // position `durable_end`: drops what lies more than `keep_bytes` behind it and was not dropped
  // yet. keep_bytes < 0: keeps everything.
  void on_durable(io::backend& io, int fd, offset segment_base, std::uint64_t durable_end,
                  std::int64_t keep_bytes, std::string_view what);

 private:
  offset segment_{-1};
  std::uint64_t dropped_to_ = 0;
};

}  // namespace sluice
