#pragma once
// Dropping a file's clean pages from the page cache without root: posix_fadvise(DONTNEED).
//
// Each measurement of the append benchmark starts from the same cache state: gigabytes of
// clean pages cached by the previous phase (the baseline's file, the log's segments) would
// otherwise have to be reclaimed inside the next phase's write path, which on the benchmark
// machine cut the log's throughput by up to 40%. Only clean pages go: call after fdatasync.

#include <filesystem>

#include "protocol/result.h"

namespace sluice::bench {

// Drops the cached pages of `file`.
[[nodiscard]] result<void> drop_cached_pages(const std::filesystem::path& file);
// Drops the cached pages of every regular file under `dir`.
[[nodiscard]] result<void> drop_cached_pages_under(const std::filesystem::path& dir);

}  // namespace sluice::bench
