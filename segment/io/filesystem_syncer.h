#pragma once
// syncfs(2) for backend::async_sync_filesystem.
//
// filesystem_syncer holds a directory of the filesystem open from before any log file is
// opened (the broker's data directory), and makes every syncfs through it. syncfs reports the
// writeback errors of the whole filesystem since the descriptor it is given was opened, once
// each; going through a descriptor older than every file served means no error on any of them
// goes unreported. After an error every later sync fails too: syncfs does not say which file lost
// its pages, so no file of the filesystem may be called durable again until it is reopened.
//
// filesystem_sync_thread runs the syscalls for a backend whose kernel interface has no syncfs
// (io_uring): one thread, and every request that arrives while a syncfs runs is served by the
// next one, so many logs asking at about the same moment cost a few syncfs calls.
//
// Threading: request() on the backend's io_context thread; sync() on one thread at a
// time (the sync thread, or the pwrite backend's worker). Handlers run on the io_context thread.

#include <sys/types.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "segment/io/alive_token.h"
#include "segment/io/pending_op.h"

namespace sluice::io {

class filesystem_syncer {
 public:
  // Opens `root`, a directory. nullptr (said once in the log) when it cannot be opened, or when
  // the kernel's syncfs does not report writeback errors (before Linux 5.8): callers then sync
  // each file on its own.
  static std::unique_ptr<filesystem_syncer> open(const std::filesystem::path& root);
  ~filesystem_syncer();
  filesystem_syncer(const filesystem_syncer&) = delete;
  filesystem_syncer& operator=(const filesystem_syncer&) = delete;

  // The root's filesystem: the files a syncfs through it makes durable.
  [[nodiscard]] dev_t device() const { return dev_; }
  // One syncfs through the root: 0, or -errno (also every time after the first failure).
  long sync();

 private:
  filesystem_syncer(int root_fd, dev_t dev) : root_fd_(root_fd), dev_(dev) {}

  int root_fd_;
  dev_t dev_;
  int failed_errno_ = 0;  // sticky, see above
};

// How a backend serves async_sync_filesystem(fd): a syncfs when `syncer` (may be null) serves fd;
// otherwise fsync for a directory (fdatasync is not documented to make its entries durable) and
// fdatasync for anything else.
[[nodiscard]] sync_kind filesystem_sync_kind(const filesystem_syncer* syncer, int fd);

class filesystem_sync_thread {
 public:
  filesystem_sync_thread(boost::asio::io_context& ctx, filesystem_syncer& syncer);
  // Waits for the syncfs running; requests not yet served are dropped, their handlers uncalled.
  ~filesystem_sync_thread();
  filesystem_sync_thread(const filesystem_sync_thread&) = delete;
  filesystem_sync_thread& operator=(const filesystem_sync_thread&) = delete;

  // Serves `op` (a sync_kind::filesystem sync whose earlier writes have finished) with the next
  // syncfs to start, then runs its handler on the io_context thread.
  void request(std::unique_ptr<pending_op> op);

 private:
  using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  void run();
  void complete(std::vector<std::unique_ptr<pending_op>>& served);  // io_context thread

  boost::asio::io_context& ctx_;
  filesystem_syncer& syncer_;
  alive_token alive_;
  std::size_t outstanding_ = 0;     // io_context thread only
  std::optional<work_guard> busy_;  // held while outstanding_ > 0, so run() waits for handlers
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<pending_op>> waiting_;  // guarded by mutex_
  bool stopping_ = false;                             // guarded by mutex_
  std::thread thread_;  // declared last: starts once everything above exists
};

}  // namespace sluice::io
