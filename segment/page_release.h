#pragma once
// Whether a file's pages can be written over without changing bytes someone is still sending.
//
// sendfile() does not copy: the socket keeps references to the file's page cache pages until the
// peer has them (on loopback, until the receiver reads them), after the call and the fetch's
// slice are long gone. A write over those file offsets writes into the same pages, so a
// recycled segment file (partition_log::recycle_segments) could turn bytes already queued to a
// consumer into the new segment's. The kernel cannot evict a page someone holds a reference to,
// so a file none of whose pages stay in the page cache after an eviction has none in a socket:
// writes then go to fresh pages.

#include <cstdint>
#include <filesystem>

#include "protocol/result.h"

namespace sluice {

// How many bytes of `path` are in the page cache, in whole pages. cachestat(2) (Linux 6.5) skips
// what is not cached, so a 1 GiB file evicted with fadvise costs microseconds. mincore over a
// read-only mapping looks up every page (about 15 ms per GiB on this project's VM); it answers
// before Linux 6.5, when a syscall filter refuses cachestat, and on file systems whose files'
// pages may be another file's (overlayfs, FUSE), where cachestat would count none.
[[nodiscard]] result<std::uint64_t> cached_bytes(const std::filesystem::path& path);

// Evicts the clean pages of `path` from the page cache (POSIX_FADV_DONTNEED) and says whether
// none is left (cached_bytes). False also while pages are dirty or under writeback; an error when
// the file cannot be looked at. The eviction costs about 70 ms per cached GiB.
[[nodiscard]] result<bool> release_cached_pages(const std::filesystem::path& path);

// Whether `dir` is on a file system whose files are their page cache pages (tmpfs, ramfs):
// there no page is ever released, and writing over a file saves no block allocation.
[[nodiscard]] bool files_live_in_page_cache(const std::filesystem::path& dir);

}  // namespace sluice
