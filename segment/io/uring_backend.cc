#include "segment/io/uring_backend.h"

#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "segment/io/sync_file_ops.h"

namespace sluice::io {

namespace {

// The opcodes the backend issues; a kernel without them cannot run it.
result<void> check_opcodes(::io_uring& ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) return make_errno_error(ENOSYS, "io_uring opcode probe");
  const bool ok = io_uring_opcode_supported(probe, IORING_OP_WRITE) != 0 &&
                  io_uring_opcode_supported(probe, IORING_OP_FSYNC) != 0;
  io_uring_free_probe(probe);
  if (!ok) return make_errno_error(EOPNOTSUPP, "io_uring lacks the WRITE or FSYNC opcode");
  return {};
}

void prepare(io_uring_sqe& sqe, pending_op& op) {
  if (op.kind == op_kind::write) {
    io_uring_prep_write(&sqe, op.fd, op.rest.data(), op.next_chunk(), op.pos);
  } else {
    io_uring_prep_fsync(&sqe, op.fd, IORING_FSYNC_DATASYNC);
  }
  io_uring_sqe_set_data(&sqe, &op);
}

}  // namespace

void uring_backend::ring_closer::operator()(::io_uring* ring) const {
  io_uring_queue_exit(ring);
  delete ring;
}

result<std::unique_ptr<uring_backend>> uring_backend::create(boost::asio::io_context& ctx,
                                                             unsigned entries) {
  auto raw = std::make_unique<::io_uring>();
  if (const int rc = io_uring_queue_init(entries, raw.get(), 0); rc < 0) {
    return make_errno_error(-rc, fmt::format("io_uring_queue_init({} entries)", entries));
  }
  ring_ptr ring(raw.release());
  if (auto ok = check_opcodes(*ring); !ok) return ok.error();
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return make_errno_error(errno, "eventfd for io_uring completions");
  if (const int rc = io_uring_register_eventfd(ring.get(), efd); rc < 0) {
    ::close(efd);
    return make_errno_error(-rc, "io_uring_register_eventfd");
  }
  return std::unique_ptr<uring_backend>(new uring_backend(ctx, std::move(ring), efd));
}

uring_backend::uring_backend(boost::asio::io_context& ctx, ring_ptr ring, int eventfd)
    : ctx_(ctx),
      ring_(std::move(ring)),
      eventfd_(ctx, eventfd),
      capacity_(ring_->cq.ring_entries) {}

uring_backend::~uring_backend() {
  wait_for_ring();
}

// Ops in the SQ ring that the kernel has not consumed yet are submitted too, so every op in the
// ring ends with a CQE and can be freed.
void uring_backend::wait_for_ring() {
  while (in_ring_ > 0) {
    io_uring_submit(ring_.get());  // errors: the wait below still reaps what was consumed
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc == -EINTR) continue;
    SLUICE_ASSERT(rc == 0);
    delete static_cast<pending_op*>(io_uring_cqe_get_data(cqe));
    io_uring_cqe_seen(ring_.get(), cqe);
    --in_ring_;
  }
}

void uring_backend::async_write_at(int fd, std::uint64_t pos, std::span<const std::byte> data,
                                   std::string_view what, write_handler handler) {
  enqueue(pending_op::write(fd, pos, data, what, std::move(handler)));
}

void uring_backend::async_datasync(int fd, std::string_view what, sync_handler handler) {
  enqueue(pending_op::sync(fd, what, std::move(handler)));
}

result<std::size_t> uring_backend::read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                           std::string_view what) {
  return sync_ops::read_at(fd, pos, out, what);
}

result<void> uring_backend::truncate(int fd, std::uint64_t size, std::string_view what) {
  return sync_ops::truncate(fd, size, what);
}

result<void> uring_backend::datasync(int fd, std::string_view what) {
  return sync_ops::datasync(fd, what);
}

void uring_backend::enqueue(std::unique_ptr<pending_op> op) {
  queued_.push_back(std::move(op));
  schedule_flush();
}

// One flush per io_context turn: everything started before it runs shares one submit.
void uring_backend::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  post_while_alive(ctx_, alive_.watch(), [this] { flush(); });
}

void uring_backend::flush() {
  flush_posted_ = false;
  while (!queued_.empty() && in_ring_ < capacity_) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    if (sqe == nullptr) {  // SQ full: hand it to the kernel and try again
      submit();
      sqe = io_uring_get_sqe(ring_.get());
      if (sqe == nullptr) break;
    }
    prepare(*sqe, *queued_.front().release());  // the ring owns the op until its CQE
    queued_.pop_front();
    ++in_ring_;
  }
  submit();
  arm_wait();
  // The kernel may have taken only part of the SQ (or been busy); try again next turn.
  const bool room_left = !queued_.empty() && in_ring_ < capacity_;
  if (io_uring_sq_ready(ring_.get()) > 0 || room_left) schedule_flush();
}

void uring_backend::submit() {
  if (io_uring_sq_ready(ring_.get()) == 0) return;
  ++submit_calls_;
  const int rc = io_uring_submit(ring_.get());
  // EAGAIN/EBUSY (kernel short of memory, completions to reap first) and EINTR leave the SQEs
  // in the ring for the next submit. Anything else means the ring itself is broken.
  if (rc >= 0 || rc == -EAGAIN || rc == -EBUSY || rc == -EINTR) return;
  spdlog::critical("io_uring_submit failed: {}", make_errno_error(-rc, "").message());
  SLUICE_ASSERT(rc >= 0);
}

// Armed only while ops are in the ring, so an idle backend does not keep io_context::run() busy.
// Every CQE writes the eventfd (a fresh epoll edge), and the wait is always re-armed before the
// handler returns to the loop, so no completion is missed.
void uring_backend::arm_wait() {
  if (waiting_ || in_ring_ == 0) return;
  waiting_ = true;
  eventfd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, owner = alive_.watch()](const boost::system::error_code&) {
                        if (owner.expired()) return;  // the backend is gone (wait cancelled)
                        waiting_ = false;
                        on_eventfd();
                      });
}

void uring_backend::on_eventfd() {
  std::uint64_t count = 0;
  // Drain before reaping: a CQE posted after this read signals the eventfd again.
  while (::read(eventfd_.native_handle(), &count, sizeof count) < 0 && errno == EINTR) {
  }
  reap();
  if (!queued_.empty()) schedule_flush();
  arm_wait();
}

void uring_backend::reap() {
  io_uring_cqe* cqe = nullptr;
  while (io_uring_peek_cqe(ring_.get(), &cqe) == 0) {
    std::unique_ptr<pending_op> op(static_cast<pending_op*>(io_uring_cqe_get_data(cqe)));
    const int res = cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    --in_ring_;
    if (op->record(res) == op_step::again) {
      enqueue(std::move(op));  // the rest of a short write, at the advanced position
    } else {
      op->run_handler();
    }
  }
}

}  // namespace sluice::io
