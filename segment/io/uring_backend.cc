#include "segment/io/uring_backend.h"

#include <fmt/format.h>
#include <liburing.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <utility>

#include "segment/io/sync_file_ops.h"

namespace sluice::io {

namespace {

// More workers are an optimisation: a kernel that refuses keeps its default.
void raise_worker_limit(::io_uring& ring, unsigned bounded) {
  unsigned limits[2] = {bounded, 0};  // {bounded, unbounded}; 0 keeps the current value
  if (const int rc = io_uring_register_iowq_max_workers(&ring, limits); rc < 0) {
    spdlog::info("io_uring: could not raise the io-wq worker limit to {}: {}; keeping the default",
                 bounded, std::strerror(-rc));
  }
}

// The opcodes the backend issues; a kernel without them cannot run it.
result<void> check_opcodes(::io_uring& ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) return make_errno_error(ENOSYS, "io_uring opcode probe");
  const bool ok = io_uring_opcode_supported(probe, IORING_OP_WRITEV) != 0 &&
                  io_uring_opcode_supported(probe, IORING_OP_FSYNC) != 0;
  io_uring_free_probe(probe);
  if (!ok) return make_errno_error(EOPNOTSUPP, "io_uring lacks the WRITEV or FSYNC opcode");
  return {};
}

// An ASYNC_CANCEL matching any request, on a ring holding none, finds none (0 on Linux 6.18)
// where the kernel knows IORING_ASYNC_CANCEL_ANY (Linux 5.19) and ends in EINVAL where not.
// A probe that cannot go through fails the ring: its CQE, reaped later, would pass for the
// watchdog's cancel.
result<bool> supports_cancel_any(::io_uring& ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  SLUICE_ASSERT(sqe != nullptr);  // a new ring's SQ is empty
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data(sqe, nullptr);
  if (const int rc = io_uring_submit(&ring); rc != 1) {
    return make_errno_error(rc < 0 ? -rc : EIO, "io_uring_submit of a cancel probe");
  }
  io_uring_cqe* cqe = nullptr;
  int rc = 0;
  do {
    rc = io_uring_wait_cqe(&ring, &cqe);
  } while (rc == -EINTR);
  if (rc != 0) return make_errno_error(-rc, "io_uring_wait_cqe of a cancel probe");
  const bool known = cqe->res != -EINVAL;
  io_uring_cqe_seen(&ring, cqe);
  return known;
}

bool supports_sync_file_range(::io_uring& ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) return false;
  const bool ok = io_uring_opcode_supported(probe, IORING_OP_SYNC_FILE_RANGE) != 0;
  io_uring_free_probe(probe);
  return ok;
}

__kernel_timespec to_kernel_timespec(std::chrono::milliseconds d) {
  return {.tv_sec = d.count() / 1000, .tv_nsec = (d.count() % 1000) * 1000000};
}

void prepare_sync(io_uring_sqe& sqe, const pending_op& op) {
  switch (op.sync_what) {
    case sync_kind::data:
      return io_uring_prep_fsync(&sqe, op.fd, IORING_FSYNC_DATASYNC);
    case sync_kind::full:
    case sync_kind::filesystem:  // never in the ring (enqueue), listed for completeness
      return io_uring_prep_fsync(&sqe, op.fd, 0U);
    case sync_kind::writeback: {
      // The SQE holds a 32-bit length; 0 means "to the end of the file".
      const auto len = op.range_bytes <= UINT32_MAX ? static_cast<unsigned>(op.range_bytes) : 0U;
      return io_uring_prep_sync_file_range(&sqe, op.fd, len, op.pos, SYNC_FILE_RANGE_WRITE);
    }
  }
}

void prepare(io_uring_sqe& sqe, pending_op& op) {
  if (op.kind == op_kind::write) {
    const auto v = op.next_iovecs();
    io_uring_prep_writev(&sqe, op.fd, v.data(), static_cast<unsigned>(v.size()), op.pos);
  } else {
    prepare_sync(sqe, op);
  }
  io_uring_sqe_set_data(&sqe, &op);
}

}  // namespace

void uring_backend::ring_closer::operator()(::io_uring* ring) const {
  io_uring_queue_exit(ring);
  delete ring;
}

result<std::unique_ptr<uring_backend>> uring_backend::create(boost::asio::io_context& ctx,
                                                             options opts) {
  auto raw = std::make_unique<::io_uring>();
  if (const int rc = io_uring_queue_init(opts.entries, raw.get(), 0); rc < 0) {
    return make_errno_error(-rc, fmt::format("io_uring_queue_init({} entries)", opts.entries));
  }
  ring_ptr ring(raw.release());
  if (auto ok = check_opcodes(*ring); !ok) return ok.error();
  raise_worker_limit(*ring, max_bounded_workers);
  const auto can_cancel_any = supports_cancel_any(*ring);  // before the eventfd: no wake-up
  if (!can_cancel_any) return can_cancel_any.error();
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return make_errno_error(errno, "eventfd for io_uring completions");
  if (const int rc = io_uring_register_eventfd(ring.get(), efd); rc < 0) {
    ::close(efd);
    return make_errno_error(-rc, "io_uring_register_eventfd");
  }
  return std::unique_ptr<uring_backend>(
      new uring_backend(ctx, std::move(ring), efd, std::move(opts), *can_cancel_any));
}

uring_backend::uring_backend(boost::asio::io_context& ctx, ring_ptr ring, int eventfd, options opts,
                             bool can_cancel_any)
    : ctx_(ctx),
      ring_(std::move(ring)),
      inline_write_max_bytes_(opts.inline_write_max_bytes),
      eventfd_(ctx, eventfd),
      capacity_(ring_->cq.ring_entries),
      can_start_writeback_(supports_sync_file_range(*ring_)),
      can_link_(ring_->sq.ring_entries >= 2),
      can_cancel_any_(can_cancel_any),
      stall_timeout_(opts.stall_timeout),
      watchdog_(ctx),
      base_bypass_(opts.stall_bypass),
      bypass_period_(opts.stall_bypass),
      syncer_(std::move(opts.syncer)),
      blocking_(
          ctx, "io-blocking",
          // A filesystem sync is submitted only once the writes before it have finished, so
          // none of those (an op taken back from the ring, say) is behind it in a batch.
          [this](op_worker::batch taken) {
            serve_one_by_one(blocking_, syncer_.get(), std::move(taken));
          },
          [this](std::unique_ptr<pending_op> op) { finish_blocking(std::move(op)); }) {}

void uring_backend::finish_blocking(std::unique_ptr<pending_op> op) {
  if (runs_on_own_thread_after_cancel(*op)) --on_own_thread_;
  if (op->kind == op_kind::write) return complete_write(std::move(op));
  op->run_handler();
}

uring_backend::~uring_backend() {
  wait_for_ring();
}

// Ops in the SQ ring that the kernel has not consumed yet are submitted too, so every op in the
// ring ends with a CQE and can be freed. Should none complete for stall_timeout, the ring is
// stalled (see the watchdog): what the kernel has not started is cancelled once, so that
// shutting down does not hang on it.
void uring_backend::wait_for_ring() {
  bool cancelled = cancel_in_ring_;
  while (in_ring_ > 0) {
    io_uring_submit(ring_.get());  // errors: the wait below still reaps what was consumed
    io_uring_cqe* cqe = nullptr;
    // Timed only where a cancel can follow: before Linux 5.11 a timed wait takes an SQE of its
    // own, which a full SQ has not.
    auto timeout = to_kernel_timespec(stall_timeout_);
    const int rc = can_cancel_any_ ? io_uring_wait_cqe_timeout(ring_.get(), &cqe, &timeout)
                                   : io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc == -EINTR) continue;
    if (rc == -ETIME) {
      if (!cancelled) {
        spdlog::warn(
            "io_uring stall at shutdown: {} operation(s) in the ring, none completed for "
            "{} ms; cancelling those the kernel has not started",
            in_ring_, stall_timeout_.count());
        cancelled = true;
        prepare_cancel_all();
      }
      continue;
    }
    SLUICE_ASSERT(rc == 0);
    delete static_cast<pending_op*>(io_uring_cqe_get_data(cqe));
    io_uring_cqe_seen(ring_.get(), cqe);
    --in_ring_;
  }
}

void uring_backend::async_write_at(int fd, std::uint64_t pos, write_buffers data,
                                   std::string_view what, write_handler handler) {
  auto op = pending_op::write(fd, pos, data, what, std::move(handler));
  if (try_write_inline(op)) return;
  op->seq = next_seq_++;
  unfinished_writes_[fd].insert(op->seq);
  enqueue(std::move(op));
}

bool uring_backend::try_write_inline(std::unique_ptr<pending_op>& op) {
  // A write behind one in the ring waits its turn, so writes to a file finish in order.
  if (op->left > inline_write_max_bytes_ || unfinished_writes_.contains(op->fd)) return false;
  for (;;) {
    const auto v = op->next_iovecs();
    long res = ::pwritev(op->fd, v.data(), static_cast<int>(v.size()), static_cast<off_t>(op->pos));
    if (res < 0) res = -errno;
    if (op->record(res) == op_step::done) break;
  }
  // Finished, so a datasync started from now on covers it; its handler still runs later, on
  // the loop, as for every op.
  post_while_alive(ctx_, alive_.watch(),
                   [op = std::shared_ptr<pending_op>(std::move(op))] { op->run_handler(); });
  return true;
}

void uring_backend::async_datasync(int fd, std::string_view what, sync_handler handler) {
  auto op = pending_op::sync(fd, what, std::move(handler));
  op->seq = next_seq_++;
  place_sync(std::move(op));
}

void uring_backend::async_fsync(int fd, std::string_view what, sync_handler handler) {
  auto op = pending_op::sync(fd, what, std::move(handler), sync_kind::full);
  op->seq = next_seq_++;
  place_sync(std::move(op));
}

void uring_backend::async_sync_filesystem(int fd, std::string_view what, sync_handler handler) {
  auto op = pending_op::sync(fd, what, std::move(handler), filesystem_sync_kind(syncer_.get(), fd));
  op->seq = next_seq_++;
  place_sync(std::move(op));
}

void uring_backend::async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                                          std::string_view what, sync_handler handler) {
  auto op = pending_op::writeback(fd, from, length, what, std::move(handler));
  if (!can_start_writeback_) {  // a hint the kernel cannot take: done, having done nothing
    post_while_alive(ctx_, alive_.watch(),
                     [op = std::shared_ptr<pending_op>(std::move(op))] { op->run_handler(); });
    return;
  }
  op->seq = next_seq_++;
  place_sync(std::move(op));
}

std::size_t uring_backend::in_flight() const {
  std::size_t n =
      in_ring_ - (cancel_in_ring_ ? 1 : 0) + queued_.size() + parked_syncs_.size() + on_own_thread_;
  for (const auto& op : queued_) n += op->then_sync ? 1 : 0;
  return n;
}

void uring_backend::place_sync(std::unique_ptr<pending_op> op) {
  const std::size_t earlier = unfinished_writes_before(*op);
  if (earlier == 0) return enqueue(std::move(op));
  if (earlier == 1 && can_link_to_last_queued(*op)) {
    queued_.back()->then_sync = std::move(op);
    return schedule_flush();
  }
  parked_syncs_.push_back(std::move(op));
}

std::size_t uring_backend::unfinished_writes_before(const pending_op& sync) const {
  auto it = unfinished_writes_.find(sync.fd);
  if (it == unfinished_writes_.end()) return 0;
  return static_cast<std::size_t>(
      std::distance(it->second.begin(), it->second.lower_bound(sync.seq)));
}

// The one earlier unfinished write is the last op queued: the sync can ride right behind it.
bool uring_backend::can_link_to_last_queued(const pending_op& sync) const {
  if (!can_link_ || queued_.empty()) return false;
  const pending_op& last = *queued_.back();
  return sync.sync_what != sync_kind::filesystem && last.kind == op_kind::write &&
         last.fd == sync.fd && last.seq < sync.seq && !last.then_sync;
}

void uring_backend::write_finished(const pending_op& op) {
  auto it = unfinished_writes_.find(op.fd);
  SLUICE_ASSERT(it != unfinished_writes_.end());
  it->second.erase(op.seq);
  if (it->second.empty()) unfinished_writes_.erase(it);
}

void uring_backend::release_parked_syncs(int fd) {
  std::vector<std::unique_ptr<pending_op>> still_parked;
  for (auto& op : parked_syncs_) {
    if (op->fd == fd && unfinished_writes_before(*op) == 0) {
      enqueue(std::move(op));
    } else {
      still_parked.push_back(std::move(op));
    }
  }
  parked_syncs_ = std::move(still_parked);
}

result<std::size_t> uring_backend::read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                           std::string_view what) {
  return sync_ops::read_at(fd, pos, out, what);
}

void uring_backend::close_later(int fd, std::string_view what) {
  blocking_.submit(pending_op::close(fd, what));
}

void uring_backend::drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                                     std::string_view what) {
  if (auto op = pending_op::drop_cache(fd, from, length, what)) blocking_.submit(std::move(op));
}

result<void> uring_backend::truncate(int fd, std::uint64_t size, std::string_view what) {
  return sync_ops::truncate(fd, size, what);
}

result<void> uring_backend::datasync(int fd, std::string_view what) {
  return sync_ops::datasync(fd, what);
}

void uring_backend::enqueue(std::unique_ptr<pending_op> op) {
  if (op->kind == op_kind::sync && op->sync_what == sync_kind::filesystem) {
    return blocking_.submit(std::move(op));  // its earlier writes have finished
  }
  if (bypassing()) return run_bypassed(std::move(op));
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
  while (!queued_.empty()) {
    // A write and its linked sync go into the same submission, or the link would be cut.
    const unsigned needed = queued_.front()->then_sync ? 2 : 1;
    if (in_ring_ + needed > capacity_) break;
    if (io_uring_sq_space_left(ring_.get()) < needed) {  // SQ full: hand it to the kernel
      submit();
      if (io_uring_sq_space_left(ring_.get()) < needed) break;
    }
    prepare_next();
  }
  submit();
  arm_wait();
  watch_for_stall();
  // The kernel may have taken only part of the SQ (or been busy); try again next turn.
  const bool room_left =
      !queued_.empty() && in_ring_ + (queued_.front()->then_sync ? 2U : 1U) <= capacity_;
  if (io_uring_sq_ready(ring_.get()) > 0 || room_left) schedule_flush();
}

// Moves the front op (and the sync linked behind it) into the SQ; the ring owns them until their
// CQEs. REQUIRES: room for both in the SQ and the CQ.
void uring_backend::prepare_next() {
  std::unique_ptr<pending_op> op = std::move(queued_.front());
  queued_.pop_front();
  std::unique_ptr<pending_op> sync = std::move(op->then_sync);
  if (in_ring_ == 0) last_progress_ = std::chrono::steady_clock::now();
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  prepare(*sqe, *op);
  ++in_ring_;
  // The ring owns the op from here: prepare() made it the SQE's user_data.
  static_cast<void>(op.release());
  if (!sync) return;
  sqe->flags |= IOSQE_IO_LINK;
  sync->linked = true;
  prepare(*io_uring_get_sqe(ring_.get()), *sync.release());
  ++in_ring_;
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
  // An idle backend holds no timer: it would keep io_context::run() from returning.
  if (in_ring_ == 0 && watchdog_armed_) watchdog_.cancel();
}

void uring_backend::reap() {
  io_uring_cqe* cqe = nullptr;
  bool reaped = false;
  while (io_uring_peek_cqe(ring_.get(), &cqe) == 0) {
    std::unique_ptr<pending_op> op(static_cast<pending_op*>(io_uring_cqe_get_data(cqe)));
    const int res = cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    --in_ring_;
    reaped = true;
    if (!op) {  // the watchdog's cancel: the ops it took back come with their own CQEs
      cancel_in_ring_ = false;
      spdlog::warn("io_uring stall: the kernel gave back {}",
                   res >= 0 ? fmt::format("{} operation(s)", res)
                            : fmt::format("none ({})", std::strerror(-res)));
      if (res > 0) start_bypass(res);
      continue;
    }
    complete(std::move(op), res);
  }
  if (reaped) last_progress_ = std::chrono::steady_clock::now();
}

void uring_backend::complete(std::unique_ptr<pending_op> op, int res) {
  if (std::exchange(op->linked, false) && res == -ECANCELED) {
    // The sync never ran: the write ahead of it was short or failed, or io-wq could not run the
    // sync. Behind what is left of a short write it waits its turn again; once that write has
    // finished, it runs on the backend's own thread, since the ring may be what failed it.
    if (unfinished_writes_before(*op) > 0) return place_sync(std::move(op));
    return run_on_own_thread(std::move(op), cancel_cause::link_or_kernel);
  }
  if (res == -ECANCELED) return run_on_own_thread(std::move(op), cancel_cause::kernel);
  if (op->record(res) == op_step::again) {
    return enqueue(std::move(op));  // the rest of a short write, at the advanced position
  }
  if (op->kind == op_kind::sync) return op->run_handler();
  complete_write(std::move(op));
}

void uring_backend::complete_write(std::unique_ptr<pending_op> op) {
  write_finished(*op);
  const int fd = op->fd;
  op->run_handler();
  release_parked_syncs(fd);
}

// Apart from the stall watchdog's cancel, the backend cancels nothing but a link's tail (by
// breaking the link), so an op ending in ECANCELED never ran: io-wq could not start a worker
// thread for it. Failing it would fail an append, and a failed fdatasync fences its log until a
// restart; the backend's own thread, which exists already, runs it instead.
void uring_backend::run_on_own_thread(std::unique_ptr<pending_op> op, cancel_cause cause) {
  ++ops_run_after_cancel_;
  ++on_own_thread_;
  // Ops the stall watchdog's cancel took back were reported by it. (Their CQEs may come after
  // the cancel's own, hence a time window rather than cancel_in_ring_.)
  const bool taken_back =
      stalls_detected_ > 0 && std::chrono::steady_clock::now() - last_stall_ < stall_timeout_;
  if (cause == cancel_cause::kernel && !taken_back && unasked_cancels_++ % 100000 == 0) {
    spdlog::warn(
        "io_uring cancelled an operation it was not asked to cancel ({} {}; {} so far): io-wq "
        "could not start a worker thread, likely a limit on threads (RLIMIT_NPROC, the "
        "cgroup's pids.max or systemd's TasksMax). It runs on the backend's own thread, "
        "slower",
        op->kind == op_kind::write ? "write to" : "sync of", op->what, unasked_cancels_);
  }
  blocking_.submit(std::move(op));
}

bool uring_backend::runs_on_own_thread_after_cancel(const pending_op& op) {
  return op.kind == op_kind::write ||
         (op.kind == op_kind::sync && op.sync_what != sync_kind::filesystem);
}

void uring_backend::watch_for_stall() {
  if (watchdog_armed_ || in_ring_ == 0) return;
  watchdog_armed_ = true;
  watchdog_.expires_at(last_progress_ + stall_timeout_);
  watchdog_.async_wait([this, owner = alive_.watch()](const boost::system::error_code&) {
    if (owner.expired()) return;  // the backend is gone (wait cancelled)
    watchdog_armed_ = false;
    on_watchdog();
  });
}

void uring_backend::on_watchdog() {
  if (in_ring_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  const auto quiet = now - last_progress_;
  if (quiet >= stall_timeout_) {
    // Measured again from here: the next report (or cancel) comes after as long again, also
    // while a cancel sent earlier has not come back.
    last_progress_ = now;
    if (!cancel_in_ring_) report_stall(quiet);
  }
  watch_for_stall();
}

void uring_backend::report_stall(std::chrono::steady_clock::duration quiet) {
  ++stalls_detected_;
  last_stall_ = std::chrono::steady_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count();
  if (!can_cancel_any_) {
    spdlog::warn(
        "io_uring stall: {} operation(s) in the ring and none completed for {} ms; this kernel "
        "cannot take them back (IORING_ASYNC_CANCEL_ANY needs Linux 5.19)",
        in_ring_, ms);
    return;
  }
  spdlog::warn(
      "io_uring stall: {} operation(s) in the ring and none completed for {} ms; taking back "
      "those the kernel has not started, to run them on the backend's own thread",
      in_ring_, ms);
  prepare_cancel_all();
  submit();
  // A submit the kernel refused for now (EAGAIN/EBUSY) leaves the cancel in the SQ.
  if (io_uring_sq_ready(ring_.get()) > 0) schedule_flush();
  arm_wait();
}

// Only when ops came back: those were waiting for io-wq, which is what failed. (Ops that were
// all running are a slow disk, which the backend's own thread would not make faster.)
void uring_backend::start_bypass(int count) {
  const auto now = std::chrono::steady_clock::now();
  if (bypass_active_) {  // ops from before this bypass: it goes on as it was
    spdlog::warn("io_uring stall: the ring gave back {} more operation(s) while bypassed", count);
  } else {
    // Stalled again within as long as the last bypass lasted, counted from when the ring got
    // ops again: it is still broken, so it is left alone for longer.
    const bool again = ring_retried_at_ && now - *ring_retried_at_ <= bypass_period_;
    bypass_period_ = again ? std::min(2 * bypass_period_, max_stall_bypass) : base_bypass_;
    bypass_until_ = now + bypass_period_;
    bypass_active_ = true;
    spdlog::warn(
        "io_uring stall: the ring gave back {} operation(s); new operations go to the backend's "
        "own thread for the next {} ms before the ring is tried again",
        count, bypass_period_.count());
  }
  // What has not entered the ring yet goes there too, a linked sync right behind its write.
  auto waiting = std::exchange(queued_, {});
  for (auto& op : waiting) {
    auto sync = std::move(op->then_sync);
    run_bypassed(std::move(op));
    if (sync) run_bypassed(std::move(sync));
  }
}

bool uring_backend::bypassing() {
  if (!bypass_active_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now < bypass_until_) return true;
  bypass_active_ = false;
  ring_retried_at_ = now;
  spdlog::info("io_uring: trying the ring again after {} ms without it", bypass_period_.count());
  return false;
}

// In order on the one thread, so a sync runs after the writes handed over before it; one placed
// behind writes still in the ring waits for them (parked_syncs_) before it gets here.
void uring_backend::run_bypassed(std::unique_ptr<pending_op> op) {
  ++ops_bypassed_;
  ++on_own_thread_;
  blocking_.submit(std::move(op));
}

// One ASYNC_CANCEL for every op in the ring, in the SQ; it completes with how many it cancelled,
// and the ops cancelled end in ECANCELED (complete()). It may take the ring one past capacity_:
// the kernel keeps an overflowing CQE (IORING_FEAT_NODROP) until it is reaped.
void uring_backend::prepare_cancel_all() {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (sqe == nullptr) {  // SQ full: hand it to the kernel first
    submit();
    sqe = io_uring_get_sqe(ring_.get());
    if (sqe == nullptr) return;  // the next watchdog round tries again
  }
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data(sqe, nullptr);
  ++in_ring_;
  cancel_in_ring_ = true;
}

}  // namespace sluice::io
