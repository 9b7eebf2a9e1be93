#pragma once
// The io_uring backend: one ring per shard, driven from the shard's asio::io_context.
//
// Submission: starting an operation only queues it; one posted flush per io_context turn turns
// the queue into SQEs and calls io_uring_submit once, so appends that arrive together cost one
// io_uring_enter. At most as many operations as the completion queue holds are in the ring;
// the rest wait in the queue (nothing fails because the ring is full).
// Completion: the ring signals an eventfd that the io_context watches; the backend drains it,
// reaps every CQE and runs the handlers on the io_context thread. A short write is resubmitted
// for the rest at the advanced position; the handler sees only the final outcome.
// Ordered syncs (backend.h): a sync started right behind the one unfinished write to its fd,
// while that write is still queued, is linked to it (IOSQE_IO_LINK): the kernel runs the
// fdatasync as soon as the write is done, in the same io-wq worker, with no round trip through
// the shard. A link broken by a short or failed write cancels the sync, which is then placed
// again behind what is left. A sync behind several unfinished writes, or behind writes already
// in the ring, waits in the backend until they have finished. (Skipping the write's CQE with
// IOSQE_CQE_SKIP_SUCCESS would save the shard one wake-up per pair, but then a failed write
// also swallows the cancelled sync's CQE; not worth the bookkeeping.)
// Ops the kernel could not run: when io-wq cannot start a worker thread (a thread limit), the
// ops waiting for one end in ECANCELED, unrun. The backend's own thread runs them instead
// (pwritev, fdatasync), so a thread limit slows appends rather than failing them.
// A stall watchdog: ops in the ring with no completion for stall_timeout are reported, and an
// IORING_OP_ASYNC_CANCEL takes back those the kernel has not started (queued in io-wq, or
// waiting for a poll), which then run on the backend's own thread as above. Ops already
// running are left to finish. (Seen once in this project's tests under heavy load: every SQE
// consumed, no CQE for 35 minutes, no io-wq worker alive.) A ring that gave ops back is not
// trusted for a while (stall_bypass): new ops go straight to the backend's own thread, so a ring
// that stays broken costs the shard one stall_timeout, not one per group commit. Then the ring
// gets the next ops again; should it stall again within as long as the bypass lasted, the next
// bypass lasts twice as long (up to max_stall_bypass).
//
// Threading: shard-owned, no mutex. Construct, call and destroy it on the io_context's thread.
// The io_context must outlive the backend. Handlers must not destroy the backend.
//
// Nothing outside segment/io/ includes liburing: the ring is only forward-declared here.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "segment/io/alive_token.h"
#include "segment/io/backend.h"
#include "segment/io/filesystem_syncer.h"
#include "segment/io/op_worker.h"
#include "segment/io/pending_op.h"

struct io_uring;

namespace sluice::io {

class uring_backend final : public backend {
 public:
  static constexpr unsigned default_entries = 256;
  // Most io-wq workers the ring may run at once for bounded work (regular-file writes and
  // fdatasyncs). The kernel's default, 4 per CPU, lets fdatasyncs that wait on the disk occupy
  // every worker while the writes that acknowledge appends queue behind them: with 1 000
  // partitions under flush=interval, each fdatasyncing every interval, that stalled the shard.
  static constexpr unsigned max_bounded_workers = 64;

  // Writes of at most this many bytes, to a file with no write in the ring, are made on the
  // caller's thread (pwritev) and only their handler is posted. Buffered ext4 writes always go
  // to an io-wq worker, and for a write of a few KiB the worker's wake-up, switch and
  // completion cost more than the copy itself: with 1 000 partitions each request carries
  // hundreds of one-record batches, one write each (workload 5, perf/RESULTS.md). Larger writes
  // stay in the ring, where the kernel copies them while the shard goes on.
  static constexpr std::size_t default_inline_write_max_bytes = 16 * 1024;

  // How long ops may sit in the ring without any completing before the watchdog steps in.
  // Far beyond any healthy fdatasync, which still leaves the disk time to answer.
  static constexpr std::chrono::milliseconds default_stall_timeout{10000};
  // How long new ops bypass a ring that gave ops back after a stall, at first, and at most.
  static constexpr std::chrono::milliseconds default_stall_bypass{60'000};
  static constexpr std::chrono::milliseconds max_stall_bypass{3'600'000};

  struct options {
    unsigned entries = default_entries;
    std::size_t inline_write_max_bytes = 0;
    // With a syncer, async_sync_filesystem for its filesystem's files is one syncfs on a thread
    // of the backend (io_uring has no syncfs); without, an fdatasync.
    std::unique_ptr<filesystem_syncer> syncer;
    std::chrono::milliseconds stall_timeout = default_stall_timeout;
    std::chrono::milliseconds stall_bypass = default_stall_bypass;
  };

  // Sets up a ring of `entries` submission slots, checks that the kernel supports the WRITE and
  // FSYNC opcodes, and registers the eventfd. The error says which step failed and errno.
  // inline_write_max_bytes: see default_inline_write_max_bytes; 0 sends every write to the ring.
  [[nodiscard]] static result<std::unique_ptr<uring_backend>> create(boost::asio::io_context& ctx,
                                                                     options opts);
  [[nodiscard]] static result<std::unique_ptr<uring_backend>> create(
      boost::asio::io_context& ctx, unsigned entries = default_entries,
      std::size_t inline_write_max_bytes = 0) {
    return create(ctx, options{entries, inline_write_max_bytes, nullptr});
  }

  uring_backend(const uring_backend&) = delete;
  uring_backend& operator=(const uring_backend&) = delete;

  // Blocks until the kernel has completed every operation it holds, so no buffer passed to
  // async_write_at is read after this returns. Operations still queued are never started, nor
  // those the kernel has not started once none has completed for stall_timeout.
  // No handler runs after destruction begins: pending handlers are destroyed uncalled.
  ~uring_backend() override;

  [[nodiscard]] std::string_view name() const override { return "io_uring"; }

  using backend::async_write_at;
  void async_write_at(int fd, std::uint64_t pos, write_buffers data, std::string_view what,
                      write_handler handler) override;
  void async_datasync(int fd, std::string_view what, sync_handler handler) override;
  void async_fsync(int fd, std::string_view what, sync_handler handler) override;
  void async_sync_filesystem(int fd, std::string_view what, sync_handler handler) override;
  void async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                             std::string_view what, sync_handler handler) override;

  void close_later(int fd, std::string_view what) override;
  void drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                        std::string_view what) override;

  result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                              std::string_view what) override;
  result<void> truncate(int fd, std::uint64_t size, std::string_view what) override;
  result<void> datasync(int fd, std::string_view what) override;

  // Operations io_uring cancelled unasked (io-wq could not start a worker) and the backend's
  // own thread ran instead, so far.
  [[nodiscard]] std::uint64_t ops_run_after_cancel() const { return ops_run_after_cancel_; }
  // Whether the watchdog can take stalled ops back (IORING_ASYNC_CANCEL_ANY), or only report.
  [[nodiscard]] bool can_take_back() const { return can_cancel_any_; }
  // Times the watchdog found ops in the ring with none completing for stall_timeout.
  [[nodiscard]] std::uint64_t stalls_detected() const { return stalls_detected_; }
  // Ops sent to the backend's own thread instead of the ring because it had stalled, so far.
  [[nodiscard]] std::uint64_t ops_bypassed() const { return ops_bypassed_; }
  // How long the current (or the last) bypass of the ring lasts.
  [[nodiscard]] std::chrono::milliseconds stall_bypass() const { return bypass_period_; }
  // io_uring_submit calls (each one io_uring_enter) so far.
  [[nodiscard]] std::uint64_t submit_calls() const { return submit_calls_; }
  // Operations in the ring (submitted or about to be) plus those queued or waiting behind them.
  [[nodiscard]] std::size_t in_flight() const;

 private:
  struct ring_closer {
    void operator()(::io_uring* ring) const;
  };
  using ring_ptr = std::unique_ptr<::io_uring, ring_closer>;

  uring_backend(boost::asio::io_context& ctx, ring_ptr ring, int eventfd, options opts,
                bool can_cancel_any);

  // Makes the write now if it is small and nothing is ahead of it in the ring for its file;
  // false if it must go to the ring.
  bool try_write_inline(std::unique_ptr<pending_op>& op);

  void enqueue(std::unique_ptr<pending_op> op);
  // Queues a sync, links it behind a queued write, or parks it until earlier writes finish.
  void place_sync(std::unique_ptr<pending_op> op);
  [[nodiscard]] std::size_t unfinished_writes_before(const pending_op& sync) const;
  [[nodiscard]] bool can_link_to_last_queued(const pending_op& sync) const;
  void write_finished(const pending_op& op);
  void release_parked_syncs(int fd);
  void prepare_next();
  void schedule_flush();
  void flush();
  void finish_blocking(std::unique_ptr<pending_op> op);
  // Why an op ended in ECANCELED: io-wq could not run it, or (a link's tail) maybe that.
  enum class cancel_cause { kernel, link_or_kernel };
  void run_on_own_thread(std::unique_ptr<pending_op> op, cancel_cause cause);
  [[nodiscard]] static bool runs_on_own_thread_after_cancel(const pending_op& op);
  void submit();
  void arm_wait();
  void on_eventfd();
  void reap();
  void complete(std::unique_ptr<pending_op> op, int res);
  void watch_for_stall();  // arms the watchdog while ops are in the ring
  void on_watchdog();
  void report_stall(std::chrono::steady_clock::duration quiet);
  void prepare_cancel_all();
  // The ring gave `count` ops back after a stall: new ops skip it for a while.
  void start_bypass(int count);
  [[nodiscard]] bool bypassing();
  void run_bypassed(std::unique_ptr<pending_op> op);
  void complete_write(std::unique_ptr<pending_op> op);
  void wait_for_ring();

  boost::asio::io_context& ctx_;
  ring_ptr ring_;
  std::size_t inline_write_max_bytes_;
  boost::asio::posix::stream_descriptor eventfd_;
  unsigned capacity_;         // most ops in the ring at once: the completion queue's size
  bool can_start_writeback_;  // the kernel has IORING_OP_SYNC_FILE_RANGE
  bool can_link_;             // the SQ holds a write and its sync at once
  bool can_cancel_any_;       // the kernel has IORING_ASYNC_CANCEL_ANY (the watchdog's cancel)
  std::size_t in_ring_ = 0;
  std::deque<std::unique_ptr<pending_op>> queued_;  // started, not yet in the ring
  std::uint64_t next_seq_ = 0;
  std::map<int, std::set<std::uint64_t>> unfinished_writes_;  // by fd: seq of each write
  std::vector<std::unique_ptr<pending_op>> parked_syncs_;     // waiting for earlier writes
  bool flush_posted_ = false;
  bool waiting_ = false;  // an async_wait on the eventfd is pending
  std::uint64_t submit_calls_ = 0;
  std::uint64_t ops_run_after_cancel_ = 0;
  std::uint64_t unasked_cancels_ = 0;  // of those, the ones the watchdog did not ask for
  std::size_t on_own_thread_ = 0;      // ops run_on_own_thread handed over, not yet finished
  std::chrono::milliseconds stall_timeout_;
  boost::asio::steady_timer watchdog_;
  bool watchdog_armed_ = false;
  std::chrono::steady_clock::time_point last_progress_;  // a CQE, or the ring's first op
  bool cancel_in_ring_ = false;  // the watchdog's ASYNC_CANCEL (user_data null) is in the ring
  std::uint64_t stalls_detected_ = 0;
  std::chrono::steady_clock::time_point last_stall_;
  std::chrono::milliseconds base_bypass_;
  std::chrono::milliseconds bypass_period_;             // the last (or current) bypass's length
  std::chrono::steady_clock::time_point bypass_until_;  // new ops skip the ring until then
  bool bypass_active_ = false;                          // until the first op after bypass_until_
  std::optional<std::chrono::steady_clock::time_point> ring_retried_at_;  // the last bypass's end
  std::uint64_t ops_bypassed_ = 0;
  std::unique_ptr<filesystem_syncer> syncer_;
  // Blocking calls io_uring has no opcode for (syncfs), that must not run on the caller's
  // thread (the last close of a deleted file), or that io_uring could not run (ECANCELED,
  // run_on_own_thread). Declared after syncer_, which it uses.
  op_worker blocking_;
  alive_token alive_;
};

}  // namespace sluice::io
