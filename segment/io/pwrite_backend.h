#pragma once
// The fallback backend when io_uring cannot be set up (seccomp, old kernel, disabled by sysctl):
// blocking pwritev/fdatasync executed by one worker thread, results posted back to the
// io_context. One thread executes the operations in the order they were started, which is what
// makes a sync cover every write started before it (backend.h).
//
// Threading: shard-owned. Construct, call and destroy it on the io_context's thread; only the
// worker thread touches the job queue besides it (under mutex_). Handlers run on the io_context
// thread, never inline. The io_context must outlive the backend. Like asio's own I/O objects,
// the backend counts as work for the io_context while operations are outstanding, so run() does
// not return before their handlers have run.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "segment/io/alive_token.h"
#include "segment/io/backend.h"
#include "segment/io/filesystem_syncer.h"
#include "segment/io/pending_op.h"

namespace sluice::io {

class pwrite_backend final : public backend {
 public:
  // Starts the worker thread. With a syncer, async_sync_filesystem for its filesystem's files is
  // a syncfs in the worker, in turn like every other operation; without, an fdatasync.
  explicit pwrite_backend(boost::asio::io_context& ctx,
                          std::unique_ptr<filesystem_syncer> syncer = nullptr);

  pwrite_backend(const pwrite_backend&) = delete;
  pwrite_backend& operator=(const pwrite_backend&) = delete;

  // Waits for the operation the worker is executing, so no buffer passed to async_write_at is
  // read after this returns. Operations still queued are never started. No handler runs after
  // destruction begins: pending handlers are destroyed uncalled.
  ~pwrite_backend() override;

  [[nodiscard]] std::string_view name() const override { return "pwrite"; }

  using backend::async_write_at;
  void async_write_at(int fd, std::uint64_t pos, write_buffers data, std::string_view what,
                      write_handler handler) override;
  void async_datasync(int fd, std::string_view what, sync_handler handler) override;
  void async_fsync(int fd, std::string_view what, sync_handler handler) override;
  void async_sync_filesystem(int fd, std::string_view what, sync_handler handler) override;
  void async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                             std::string_view what, sync_handler handler) override;

  result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                              std::string_view what) override;
  result<void> truncate(int fd, std::uint64_t size, std::string_view what) override;
  result<void> datasync(int fd, std::string_view what) override;

 private:
  using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  void enqueue(std::unique_ptr<pending_op> op);
  void complete(pending_op& op);  // on the io_context thread
  void run_worker();              // the worker thread's loop
  void execute(pending_op& op);   // blocking syscalls, on the worker thread

  boost::asio::io_context& ctx_;
  std::unique_ptr<filesystem_syncer> syncer_;  // sync() on the worker thread only
  alive_token alive_;
  std::size_t outstanding_ = 0;     // started, handler not yet run; io_context thread only
  std::optional<work_guard> busy_;  // held while outstanding_ > 0
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<pending_op>> jobs_;  // guarded by mutex_
  bool stopping_ = false;                         // guarded by mutex_
  std::thread worker_;  // declared last: starts once everything above exists
};

}  // namespace sluice::io
