#pragma once
// The fallback backend when io_uring cannot be set up (seccomp, old kernel, disabled by sysctl):
// blocking pwritev/fdatasync executed by one worker thread (op_worker.h), results posted back to
// the io_context. The thread executes the operations in the order they were started, which is
// what makes a sync cover every write started before it (backend.h). Filesystem syncs are the
// exception that keeps the rule: those the worker finds waiting together run after the other
// operations it found, all served by one syncfs.
//
// Threading: shard-owned. Construct, call and destroy it on the io_context's thread. Handlers
// run on the io_context thread, never inline. The io_context must outlive the backend. Like
// asio's own I/O objects, the backend counts as work for the io_context while operations are
// outstanding, so run() does not return before their handlers have run.

#include <boost/asio/io_context.hpp>
#include <memory>

#include "segment/io/backend.h"
#include "segment/io/filesystem_syncer.h"
#include "segment/io/op_worker.h"
#include "segment/io/pending_op.h"

namespace sluice::io {

class pwrite_backend final : public backend {
 public:
  // Starts the worker thread. With a syncer, async_sync_filesystem for its filesystem's files is
  // a syncfs in the worker (see above); without, an fdatasync.
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

  void close_later(int fd, std::string_view what) override;
  void drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                        std::string_view what) override;

  result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                              std::string_view what) override;
  result<void> truncate(int fd, std::uint64_t size, std::string_view what) override;
  result<void> datasync(int fd, std::string_view what) override;

 private:
  std::unique_ptr<filesystem_syncer> syncer_;  // used by the worker thread only
  op_worker worker_;  // declared last: its thread starts once everything above exists
};

}  // namespace sluice::io
