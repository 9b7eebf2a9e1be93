#include "segment/io/pwrite_backend.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "segment/io/sync_file_ops.h"

namespace sluice::io {

namespace {
// One sync syscall for `op`: 0 or -1 with errno, like the syscalls.
long run_sync(const pending_op& op) {
  switch (op.sync_what) {
    case sync_kind::data:
      return ::fdatasync(op.fd);
    case sync_kind::full:
    case sync_kind::filesystem:  // run by the syncer (execute)
      return ::fsync(op.fd);
    case sync_kind::writeback:
      return ::sync_file_range(op.fd, static_cast<off_t>(op.pos),
                               static_cast<off_t>(op.range_bytes), SYNC_FILE_RANGE_WRITE);
  }
  return 0;
}
}  // namespace

pwrite_backend::pwrite_backend(boost::asio::io_context& ctx,
                               std::unique_ptr<filesystem_syncer> syncer)
    : ctx_(ctx), syncer_(std::move(syncer)), worker_([this] { run_worker(); }) {}

pwrite_backend::~pwrite_backend() {
  std::deque<std::unique_ptr<pending_op>> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(jobs_);
  }
  wake_.notify_one();
  worker_.join();
}

void pwrite_backend::async_write_at(int fd, std::uint64_t pos, write_buffers data,
                                    std::string_view what, write_handler handler) {
  enqueue(pending_op::write(fd, pos, data, what, std::move(handler)));
}

void pwrite_backend::async_datasync(int fd, std::string_view what, sync_handler handler) {
  enqueue(pending_op::sync(fd, what, std::move(handler)));
}

void pwrite_backend::async_fsync(int fd, std::string_view what, sync_handler handler) {
  enqueue(pending_op::sync(fd, what, std::move(handler), sync_kind::full));
}

void pwrite_backend::async_sync_filesystem(int fd, std::string_view what, sync_handler handler) {
  enqueue(pending_op::sync(fd, what, std::move(handler), filesystem_sync_kind(syncer_.get(), fd)));
}

void pwrite_backend::async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                                           std::string_view what, sync_handler handler) {
  enqueue(pending_op::writeback(fd, from, length, what, std::move(handler)));
}

result<std::size_t> pwrite_backend::read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                            std::string_view what) {
  return sync_ops::read_at(fd, pos, out, what);
}

result<void> pwrite_backend::truncate(int fd, std::uint64_t size, std::string_view what) {
  return sync_ops::truncate(fd, size, what);
}

result<void> pwrite_backend::datasync(int fd, std::string_view what) {
  return sync_ops::datasync(fd, what);
}

void pwrite_backend::enqueue(std::unique_ptr<pending_op> op) {
  if (outstanding_++ == 0) busy_.emplace(ctx_.get_executor());
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(op));
  }
  wake_.notify_one();
}

void pwrite_backend::run_worker() {
  const auto owner = alive_.watch();
  for (;;) {
    std::unique_ptr<pending_op> op;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      op = std::move(jobs_.front());
      jobs_.pop_front();
    }
    execute(*op);
    post_while_alive(ctx_, owner, [this, op = std::move(op)] { complete(*op); });
  }
}

void pwrite_backend::complete(pending_op& op) {
  if (--outstanding_ == 0) busy_.reset();
  op.run_handler();
}

void pwrite_backend::execute(pending_op& op) {
  for (;;) {
    long res = 0;
    if (op.kind == op_kind::sync && op.sync_what == sync_kind::filesystem) {
      res = syncer_->sync();  // 0 or -errno already
    } else {
      if (op.kind == op_kind::write) {
        const auto v = op.next_iovecs();
        res = ::pwritev(op.fd, v.data(), static_cast<int>(v.size()), static_cast<off_t>(op.pos));
      } else {
        res = run_sync(op);
      }
      if (res < 0) res = -errno;
    }
    if (op.record(res) == op_step::done) return;
  }
}

}  // namespace sluice::io
