#include "segment/tools/log_file_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace sluice::log_tool {

namespace {

// Reads ahead this much, so a walk over small batches is a few large reads.
constexpr std::size_t window_bytes = std::size_t{1} << 20;

}  // namespace

result<log_file_reader> log_file_reader::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_errno_error(errno, "open " + path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return make_errno_error(err, "stat " + path.string());
  }
  return log_file_reader(fd, path, static_cast<std::uint64_t>(st.st_size));
}

log_file_reader::log_file_reader(log_file_reader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      size_(other.size_),
      window_(std::move(other.window_)),
      window_start_(other.window_start_) {}

log_file_reader::~log_file_reader() {
  if (fd_ >= 0) ::close(fd_);
}

result<byte_span> log_file_reader::read(std::uint64_t pos, std::size_t len) {
  if (pos >= size_) return byte_span{};
  len = static_cast<std::size_t>(std::min<std::uint64_t>(len, size_ - pos));
  const bool inside = pos >= window_start_ && pos + len <= window_start_ + window_.size();
  if (!inside) {
    if (auto r = fill(pos, std::max(len, window_bytes)); !r) return r.error();
  }
  return byte_span(window_).subspan(static_cast<std::size_t>(pos - window_start_), len);
}

result<void> log_file_reader::fill(std::uint64_t pos, std::size_t len) {
  len = static_cast<std::size_t>(std::min<std::uint64_t>(len, size_ - pos));
  window_.resize(len);
  window_start_ = pos;
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::pread(fd_, window_.data() + got, len - got, static_cast<off_t>(pos + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      window_.clear();
      return make_errno_error(err, fmt::format("read {} at {}", path_.string(), pos + got));
    }
    if (n == 0) break;  // the file shrank under us: what is left is what there is
    got += static_cast<std::size_t>(n);
  }
  window_.resize(got);
  return {};
}

}  // namespace sluice::log_tool
