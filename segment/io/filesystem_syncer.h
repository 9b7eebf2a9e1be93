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
// The backends run a syncer's calls on a thread of their own (op_worker.h): every filesystem
// sync waiting when a syncfs starts is served by it, so many logs asking at about the same moment
// cost a few syncfs calls.
//
// Threading: sync() and serve() on one thread at a time (the backend's worker); calls() on any.

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "segment/io/pending_op.h"

namespace sluice::io {

class filesystem_syncer {
 public:
  using syncfs_call = int (*)(int fd);

  // Opens `root`, a directory. nullptr (said once in the log) when it cannot be opened, or when
  // the kernel's syncfs does not report writeback errors (before Linux 5.8): callers then sync
  // each file on its own. `call` makes the syscall; tests pass one that fails.
  static std::unique_ptr<filesystem_syncer> open(const std::filesystem::path& root,
                                                 syncfs_call call = &::syncfs);
  ~filesystem_syncer();
  filesystem_syncer(const filesystem_syncer&) = delete;
  filesystem_syncer& operator=(const filesystem_syncer&) = delete;

  // The root's filesystem: the files a syncfs through it makes durable.
  [[nodiscard]] dev_t device() const { return dev_; }
  // One syncfs through the root: 0, or -errno (also every time after the first failure).
  long sync();
  // One sync() for all of `ops` (filesystem syncs whose earlier writes have finished): records
  // its result in each.
  void serve(std::span<const std::unique_ptr<pending_op>> ops);
  // How many syncfs calls were made (a failed one included, the refusals after it not).
  [[nodiscard]] std::uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }

 private:
  filesystem_syncer(int root_fd, dev_t dev, syncfs_call call)
      : root_fd_(root_fd), dev_(dev), call_(call) {}

  int root_fd_;
  dev_t dev_;
  syncfs_call call_;
  int failed_errno_ = 0;  // sticky, see above
  std::atomic<std::uint64_t> calls_{0};
};

// How a backend serves async_sync_filesystem(fd): a syncfs when `syncer` (may be null) serves fd;
// otherwise fsync for a directory (fdatasync is not documented to make its entries durable) and
// fdatasync for anything else.
[[nodiscard]] sync_kind filesystem_sync_kind(const filesystem_syncer* syncer, int fd);

}  // namespace sluice::io
