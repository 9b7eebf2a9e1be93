#pragma once
// The disk's limit for the append benchmark: plain sequential pwrite of `chunk`-byte buffers to
// a fresh file, then one fdatasync. No offsets, no CRC, no group commit; what any log on this
// filesystem could at best achieve.
//
// The file is left in place: deleting gigabytes on a filesystem mounted with `discard` (as the
// benchmark machine's ext4 is) issues TRIMs that stall every journal commit, hence every
// fdatasync, for seconds afterwards, which would slow down whatever is measured next. The
// caller deletes it when all measuring is done (scratch_dir does). Its pages are dropped from
// the page cache once it is durable (see page_cache.h).
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

  [[nodiscard]] double mb_per_s() const;  // MB = 10^6 bytes
};

// Writes exactly `bytes` bytes (the last chunk may be short) to `file`.
[[nodiscard]] result<baseline_result> write_baseline_bytes(const std::filesystem::path& file,
                                                           std::uint64_t bytes, std::size_t chunk);
// Writes whole chunks to `file` until `duration` has passed, then fdatasyncs.
[[nodiscard]] result<baseline_result> write_baseline_for(const std::filesystem::path& file,
                                                         std::chrono::duration<double> duration,
                                                         std::size_t chunk);

}  // namespace sluice::bench
