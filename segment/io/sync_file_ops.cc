#include "segment/io/sync_file_ops.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sluice::io::sync_ops {

namespace {
constexpr std::size_t max_chunk = std::size_t{1} << 30;
}  // namespace

result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                            std::string_view what) {
  std::size_t total = 0;
  while (total < out.size()) {
    const std::size_t want = std::min(out.size() - total, max_chunk);
    const ssize_t n = ::pread(fd, out.data() + total, want, static_cast<off_t>(pos + total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return make_errno_error(errno, fmt::format("read {} at position {}", what, pos + total));
    }
    if (n == 0) break;  // end of file
    total += static_cast<std::size_t>(n);
  }
  return total;
}

result<void> truncate(int fd, std::uint64_t size, std::string_view what) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return make_errno_error(errno, fmt::format("truncate {} to {} bytes", what, size));
  }
  return {};
}

result<void> datasync(int fd, std::string_view what) {
  int rc = 0;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return make_errno_error(errno, fmt::format("fdatasync {}", what));
  return {};
}

}  // namespace sluice::io::sync_ops
