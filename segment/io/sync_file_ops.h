#pragma once
// Blocking file syscalls shared by the backends' synchronous helpers (read_at, truncate,
// datasync). They run on the calling thread; errors keep errno and name `what` and the position.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/result.h"

namespace sluice::io::sync_ops {

// Reads up to out.size() bytes at `pos`, looping over short reads and EINTR. Returns the bytes
// read: fewer than out.size() only at end of file, 0 when `pos` is at or past it.
[[nodiscard]] result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                          std::string_view what);
// ftruncate(fd, size).
[[nodiscard]] result<void> truncate(int fd, std::uint64_t size, std::string_view what);
// fdatasync(fd), retried on EINTR.
[[nodiscard]] result<void> datasync(int fd, std::string_view what);

}  // namespace sluice::io::sync_ops
