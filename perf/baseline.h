#pragma once
// The disk's limit for the append benchmark: plain sequential pwrite of `chunk`-byte buffers to
// a fresh file for a fixed time, with write-behind, then one fdatasync. No offsets, no CRC, no
// group commit, no second thread; what any log writing through the page cache to this
// filesystem could at best achieve.
//
// Write-behind: every `writeback_step` bytes the writer starts writeback of that step
// (sync_file_range), and keeps at most `writeback_window` steps of it in flight, waiting for the
// oldest before going on and dropping its pages once they are on disk. Without it the figure is
// not the disk's: once a few GB are dirty, the kernel's dirty throttling paces the writer at the
// rate of *background* writeback, which on the benchmark machine (a virtio disk that calls itself
// rotational, hence write-back throttling with a 75 ms latency target) is 3-4 times slower than
// the writeback an fdatasync drives — the writeback the log's own fdatasyncs get. A writer that
// ran ten seconds measured 340-620 MB/s while the same writer stopped after 3 GB measured
// 1.3-1.7 GB/s: the figure depended on how many bytes were written, not on the disk
// (perf/README.md).
//
// The file is left in place: deleting gigabytes on a filesystem mounted with `discard` (as the
// benchmark machine's ext4 is) issues TRIMs that slow down whatever is measured next. The caller
// deletes it when all measuring is done (scratch_dir does). The writer also stops early when the
// filesystem is down to `min_free_bytes`, so a fast disk cannot fill a shared machine's disk.
//
// Runs synchronously on the calling thread.

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "protocol/result.h"

namespace sluice::bench {

struct baseline_result {
  std::uint64_t bytes = 0;
  std::chrono::duration<double> elapsed{0};  // first pwrite to the end of the fdatasync
  bool stopped_for_space = false;            // stopped early at the free-space floor

  [[nodiscard]] double mb_per_s() const;  // MB = 10^6 bytes
};

struct baseline_options {
  std::size_t chunk = 65536;                   // bytes per pwrite
  std::uint64_t writeback_step = 8ULL << 20;   // bytes per sync_file_range
  std::size_t writeback_window = 4;            // steps in writeback at most
  std::uint64_t min_free_bytes = 16ULL << 30;  // stop writing below this much space
};

// Writes whole chunks to `file` until `duration` has passed, then fdatasyncs.
[[nodiscard]] result<baseline_result> write_baseline_for(const std::filesystem::path& file,
                                                         std::chrono::duration<double> duration,
                                                         const baseline_options& opts);

// The floor of flush=always for a given amount in flight: one thread writes `cycle_bytes`
// (pwrite of `opts.chunk`-byte buffers) and fdatasyncs, again and again, until `duration` has
// passed. No log can acknowledge faster than this when every acknowledgement needs an
// fdatasync and at most `cycle_bytes` are outstanding: each cycle pays the fdatasync's fixed
// cost (the data, the inode and extent blocks, a cache flush, and the wake-ups between them).
[[nodiscard]] result<baseline_result> write_sync_cycles_for(const std::filesystem::path& file,
                                                            std::chrono::duration<double> duration,
                                                            std::uint64_t cycle_bytes,
                                                            const baseline_options& opts);

}  // namespace sluice::bench
