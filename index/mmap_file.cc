#include "index/mmap_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace sluice {
namespace {

error io_error(int err, const char* what, const std::filesystem::path& path) {
  return make_errno_error(err, fmt::format("{} {}", what, path.string()));
}

}  // namespace

result<mmap_file> mmap_file::open(const std::filesystem::path& path, std::size_t capacity_bytes) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(errno, "open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error(err, "fstat", path);
  }
  // From here on the object owns fd and closes it on every error path.
  mmap_file file(fd, path, static_cast<std::size_t>(st.st_size));
  const std::size_t capacity = std::max(capacity_bytes, file.size_at_open_);
  if (capacity > file.size_at_open_ && ::ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    return io_error(errno, "ftruncate (preallocate)", path);
  }
  if (auto mapped = file.map(capacity); !mapped) return mapped.error();
  return file;
}

mmap_file::mmap_file(mmap_file&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      open_(std::exchange(other.open_, false)),
      data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      size_at_open_(other.size_at_open_),
      reserved_(std::exchange(other.reserved_, 0)),
      path_(std::move(other.path_)) {}

mmap_file& mmap_file::operator=(mmap_file&& other) noexcept {
  if (this != &other) {
    (void)close();
    fd_ = std::exchange(other.fd_, -1);
    open_ = std::exchange(other.open_, false);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    size_at_open_ = other.size_at_open_;
    reserved_ = std::exchange(other.reserved_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

mmap_file::~mmap_file() {
  (void)close();
}

result<void> mmap_file::sync() {
  SLUICE_ASSERT(is_open());
  if (data_ == nullptr) {
    auto fd = descriptor();
    if (!fd) return fd.error();
    if (::fdatasync(*fd) != 0) return io_error(errno, "fdatasync", path_);
    return {};
  }
  if (::msync(data_, capacity_, MS_SYNC) != 0) return io_error(errno, "msync", path_);
  return {};
}

result<void> mmap_file::reserve(std::size_t end) {
  SLUICE_ASSERT(is_open());
  end = std::min(end, capacity_);
  if (end <= reserved_) return {};
  constexpr std::size_t page = 4096;
  const std::size_t to = std::min(capacity_, (end + page - 1) / page * page);
  auto fd = descriptor();
  if (!fd) return fd.error();
  if (::fallocate(*fd, 0, static_cast<off_t>(reserved_), static_cast<off_t>(to - reserved_)) != 0) {
    // A file system without fallocate cannot be helped here; the write allocates as before.
    if (errno != EOPNOTSUPP) return io_error(errno, "fallocate (index pages)", path_);
  }
  reserved_ = to;
  return {};
}

result<void> mmap_file::write_at(std::size_t pos, std::span<const std::byte> bytes) {
  SLUICE_ASSERT(is_open());
  SLUICE_ASSERT(pos + bytes.size() <= capacity_);
  auto fd = descriptor();
  if (!fd) return fd.error();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(*fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(pos + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(n < 0 ? errno : EIO, "pwrite", path_);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

result<void> mmap_file::resize(std::size_t new_capacity) {
  SLUICE_ASSERT(is_open());
  if (data_ != nullptr && new_capacity == capacity_) return {};  // mapped: the file is that size
  auto fd = descriptor();
  if (!fd) return fd.error();
  // Truncate first: if it fails, the old mapping still matches the file and nothing changed.
  // Pages of the old mapping beyond a shrunk end are never touched before the remap below.
  if (::ftruncate(*fd, static_cast<off_t>(new_capacity)) != 0) {
    return io_error(errno, "ftruncate (resize)", path_);
  }
  // Shrinking frees the pages past the new end; regrowing brings them back sparse.
  reserved_ = std::min(reserved_, new_capacity / 4096 * 4096);
  unmap();
  return map(new_capacity);
}

result<void> mmap_file::close() {
  if (!is_open()) return {};
  unmap();
  open_ = false;
  return release_descriptor();
}

result<void> mmap_file::release_descriptor() {
  if (fd_ < 0) return {};
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return io_error(errno, "close", path_);
  return {};
}

result<int> mmap_file::descriptor() {
  if (fd_ >= 0) return fd_;
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error(errno, "reopen", path_);
  fd_ = fd;
  return fd_;
}

result<void> mmap_file::map(std::size_t bytes) {
  SLUICE_ASSERT(data_ == nullptr);
  if (bytes == 0) return {};  // mmap refuses length 0; an empty file needs no mapping
  auto fd = descriptor();
  if (!fd) return fd.error();
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
  if (p == MAP_FAILED) return io_error(errno, "mmap", path_);
  data_ = static_cast<std::byte*>(p);
  capacity_ = bytes;
  return {};
}

void mmap_file::unmap() noexcept {
  // munmap of a mapping we created can only fail on a bug (bad address or length).
  if (data_ != nullptr) SLUICE_ASSERT(::munmap(data_, capacity_) == 0);
  data_ = nullptr;
  capacity_ = 0;
}

}  // namespace sluice
