#include "segment/io/pending_op.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

namespace sluice::io {

namespace {
// Linux moves at most ~2 GiB per write syscall; keep each one well below that.
constexpr std::size_t max_syscall_bytes = std::size_t{1} << 30;
constexpr std::size_t max_syscall_iovecs = IOV_MAX;
}  // namespace

std::unique_ptr<pending_op> pending_op::write(int fd, std::uint64_t pos, write_buffers data,
                                              std::string_view what, write_handler handler) {
  auto op = std::make_unique<pending_op>();
  op->kind = op_kind::write;
  op->fd = fd;
  op->pos = pos;
  op->iov.reserve(data.size());
  for (const auto& b : data) {
    if (b.empty()) continue;  // a zero-length iovec would read as "no progress"
    // iovec is the kernel's type and is not const-correct; nothing writes through it.
    op->iov.push_back({const_cast<std::byte*>(b.data()), b.size()});
    op->left += b.size();
  }
  op->what = what;
  op->on_write = std::move(handler);
  return op;
}

std::unique_ptr<pending_op> pending_op::sync(int fd, std::string_view what, sync_handler handler,
                                             sync_kind kind) {
  auto op = std::make_unique<pending_op>();
  op->kind = op_kind::sync;
  op->sync_what = kind;
  op->fd = fd;
  op->what = what;
  op->on_sync = std::move(handler);
  return op;
}

std::unique_ptr<pending_op> pending_op::close(int fd, std::string_view what) {
  auto op = std::make_unique<pending_op>();
  op->kind = op_kind::close;
  op->fd = fd;
  op->what = what;
  return op;
}

pending_op::~pending_op() {
  if (owned_fd >= 0) ::close(owned_fd);
}

std::unique_ptr<pending_op> pending_op::drop_cache(int fd, std::uint64_t from, std::uint64_t length,
                                                   std::string_view what) {
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return nullptr;
  auto op = std::make_unique<pending_op>();
  op->kind = op_kind::drop_cache;
  op->owned_fd = own;
  op->fd = own;
  op->pos = from;
  op->range_bytes = length;
  op->what = what;
  return op;
}

std::unique_ptr<pending_op> pending_op::writeback(int fd, std::uint64_t from, std::uint64_t length,
                                                  std::string_view what, sync_handler handler) {
  auto op = sync(fd, what, std::move(handler), sync_kind::writeback);
  op->pos = from;
  op->range_bytes = length;
  return op;
}

namespace {
std::string_view syscall_name(sync_kind kind) {
  switch (kind) {
    case sync_kind::data:
      return "fdatasync";
    case sync_kind::full:
      return "fsync";
    case sync_kind::writeback:
      return "sync_file_range (start writeback)";
    case sync_kind::filesystem:
      return "syncfs";
  }
  return "sync";
}
}  // namespace

std::span<const iovec> pending_op::next_iovecs() const {
  std::size_t n = 0;
  std::size_t bytes = 0;
  for (std::size_t i = first; i < iov.size() && n < max_syscall_iovecs; ++i, ++n) {
    if (n > 0 && bytes + iov[i].iov_len > max_syscall_bytes) break;
    bytes += iov[i].iov_len;
  }
  return std::span<const iovec>(iov).subspan(first, n);
}

op_step pending_op::record(long res) {
  if (res == -EINTR) return op_step::again;  // interrupted before any byte moved: issue it again
  if (res < 0) {
    fail(static_cast<int>(-res), "");
    return op_step::done;
  }
  if (kind != op_kind::write) return op_step::done;
  const auto written = static_cast<std::size_t>(res);
  SLUICE_ASSERT(written <= left);
  if (written == 0 && left > 0) {
    fail(EIO, ", no progress");
    return op_step::done;
  }
  advance(written);
  return left == 0 ? op_step::done : op_step::again;
}

void pending_op::advance(std::size_t written) {
  done += written;
  left -= written;
  pos += written;
  while (written > 0) {
    iovec& v = iov[first];
    const std::size_t step = std::min(written, v.iov_len);
    v.iov_base = static_cast<std::byte*>(v.iov_base) + step;
    v.iov_len -= step;
    written -= step;
    if (v.iov_len == 0) ++first;
  }
}

void pending_op::fail(int err, std::string_view note) {
  if (kind == op_kind::close) {
    failure = make_errno_error(err, fmt::format("close {}", what));
    return;
  }
  if (kind == op_kind::drop_cache) {
    failure = make_errno_error(err, fmt::format("posix_fadvise(DONTNEED) {}", what));
    return;
  }
  if (kind == op_kind::sync) {
    failure = make_errno_error(err, fmt::format("{} {}{}", syscall_name(sync_what), what, note));
    return;
  }
  failure = make_errno_error(err, fmt::format("write {} at position {} ({} of {} bytes written{})",
                                              what, pos, done, done + left, note));
}

void pending_op::run_handler() {
  if (kind == op_kind::close || kind == op_kind::drop_cache) {
    if (failure) spdlog::warn("{}", failure->message());
    return;
  }
  if (kind == op_kind::sync) {
    auto handler = std::move(on_sync);
    handler(failure ? result<void>(std::move(*failure)) : result<void>());
    return;
  }
  auto handler = std::move(on_write);
  handler(failure ? result<std::size_t>(std::move(*failure)) : result<std::size_t>(done));
}

long run_close(const pending_op& op) {
  if (::close(op.fd) == 0 || errno == EINTR) return 0;
  return -errno;
}

long run_drop_cache(pending_op& op) {
  // Returns the error number itself, not -1 with errno.
  const int rc = ::posix_fadvise(op.fd, static_cast<off_t>(op.pos),
                                 static_cast<off_t>(op.range_bytes), POSIX_FADV_DONTNEED);
  ::close(std::exchange(op.owned_fd, -1));
  return -rc;
}

long run_syscall(pending_op& op) {
  if (op.kind == op_kind::close) return run_close(op);
  if (op.kind == op_kind::drop_cache) return run_drop_cache(op);
  long res = 0;
  if (op.kind == op_kind::write) {
    const auto v = op.next_iovecs();
    res = ::pwritev(op.fd, v.data(), static_cast<int>(v.size()), static_cast<off_t>(op.pos));
  } else {
    switch (op.sync_what) {
      case sync_kind::data:
        res = ::fdatasync(op.fd);
        break;
      case sync_kind::full:
        res = ::fsync(op.fd);
        break;
      case sync_kind::writeback:
        res = ::sync_file_range(op.fd, static_cast<off_t>(op.pos),
                                static_cast<off_t>(op.range_bytes), SYNC_FILE_RANGE_WRITE);
        break;
      case sync_kind::filesystem:  // served by a filesystem_syncer, never one by one
        SLUICE_ASSERT(op.sync_what != sync_kind::filesystem);
    }
  }
  return res < 0 ? -errno : res;
}

void run_to_completion(pending_op& op) {
  while (op.record(run_syscall(op)) == op_step::again) {
  }
}

}  // namespace sluice::io
