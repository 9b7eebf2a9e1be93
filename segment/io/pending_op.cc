#include "segment/io/pending_op.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace sluice::io {

namespace {
// Linux moves at most ~2 GiB per write syscall; keep each chunk well below that.
constexpr std::size_t max_chunk = std::size_t{1} << 30;
}  // namespace

std::unique_ptr<pending_op> pending_op::write(int fd, std::uint64_t pos,
                                              std::span<const std::byte> data,
                                              std::string_view what, write_handler handler) {
  auto op = std::make_unique<pending_op>();
  op->kind = op_kind::write;
  op->fd = fd;
  op->pos = pos;
  op->rest = data;
  op->what = what;
  op->on_write = std::move(handler);
  return op;
}

std::unique_ptr<pending_op> pending_op::sync(int fd, std::string_view what, sync_handler handler) {
  auto op = std::make_unique<pending_op>();
  op->kind = op_kind::sync;
  op->fd = fd;
  op->what = what;
  op->on_sync = std::move(handler);
  return op;
}

unsigned pending_op::next_chunk() const {
  static_assert(max_chunk <= std::numeric_limits<unsigned>::max());
  return static_cast<unsigned>(std::min(rest.size(), max_chunk));
}

op_step pending_op::record(long res) {
  if (res == -EINTR) return op_step::again;  // interrupted before any byte moved: issue it again
  if (res < 0) {
    fail(static_cast<int>(-res), "");
    return op_step::done;
  }
  if (kind == op_kind::sync) return op_step::done;
  const auto written = static_cast<std::size_t>(res);
  SLUICE_ASSERT(written <= rest.size());
  if (written == 0 && !rest.empty()) {
    fail(EIO, ", no progress");
    return op_step::done;
  }
  done += written;
  pos += written;
  rest = rest.subspan(written);
  return rest.empty() ? op_step::done : op_step::again;
}

void pending_op::fail(int err, std::string_view note) {
  if (kind == op_kind::sync) {
    failure = make_errno_error(err, fmt::format("fdatasync {}{}", what, note));
    return;
  }
  failure = make_errno_error(err, fmt::format("write {} at position {} ({} of {} bytes written{})",
                                              what, pos, done, done + rest.size(), note));
}

void pending_op::run_handler() {
  if (kind == op_kind::sync) {
    auto handler = std::move(on_sync);
    handler(failure ? result<void>(std::move(*failure)) : result<void>());
    return;
  }
  auto handler = std::move(on_write);
  handler(failure ? result<std::size_t>(std::move(*failure)) : result<std::size_t>(done));
}

}  // namespace sluice::io
