#pragma once
// The I/O seam of the storage engine. Everything that writes or syncs a segment file goes
// through a backend, so the engine runs on io_uring when the kernel allows it, on a
// pwrite/fdatasync thread otherwise, and on a fault-injecting wrapper in tests.
//
// Threading: a backend belongs to one asio::io_context (one shard). Async operations may only
// be started from that context's thread, and their handlers run on it, never inline inside the
// call that started them.
//
// Buffers: the caller keeps the bytes passed to async_write_at alive and unchanged until the
// handler has run (the partition log owns them in its in-flight queue). The list of buffers
// itself may go away when the call returns.
//
// Ordering: an async_datasync starts only once every write to the same fd started before it has
// finished, so a caller may start a write and the fdatasync that must cover it back to back,
// without waiting for the write's handler. Where it can, a backend hands the pair to the kernel
// together (io_uring links them), which saves a round trip through the caller's thread.
//
// Handlers must not throw. Destroying a backend waits for the operations the kernel (or the
// worker thread) is executing, so no buffer is touched after the destructor returns; operations
// not yet started are dropped, and no handler runs once destruction has begun.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "protocol/result.h"

namespace sluice::io {

// Completion of a write: the number of bytes written, which is always the full length on
// success (backends finish short writes themselves); on error, the bytes may be partly written.
using write_handler = std::function<void(result<std::size_t>)>;
using sync_handler = std::function<void(result<void>)>;
// The buffers of one gathered write, written back to back.
using write_buffers = std::span<const std::span<const std::byte>>;

class backend {
 public:
  virtual ~backend() = default;

  // "io_uring", "pwrite", or a wrapper's name; said once in the log at start-up.
  [[nodiscard]] virtual std::string_view name() const = 0;

  // Writes every byte of `data`, the buffers back to back, from `pos` of `fd`: one gathered
  // write (pwritev). Errors keep errno (e.g. ENOSPC, EIO) and name `what` and the position.
  virtual void async_write_at(int fd, std::uint64_t pos, write_buffers data, std::string_view what,
                              write_handler handler) = 0;
  // Writes all of one buffer.
  void async_write_at(int fd, std::uint64_t pos, std::span<const std::byte> data,
                      std::string_view what, write_handler handler) {
    const std::span<const std::byte> one[] = {data};
    async_write_at(fd, pos, write_buffers(one), what, std::move(handler));
  }
  // fdatasync(fd), started once every write to `fd` started before this call has finished
  // (successfully or not): it covers those writes and every one whose handler ran before.
  virtual void async_datasync(int fd, std::string_view what, sync_handler handler) = 0;
  // fsync(fd), ordered like async_datasync. For a directory after a rename or unlink: fdatasync
  // is not documented to make its entries durable.
  virtual void async_fsync(int fd, std::string_view what, sync_handler handler) = 0;
  // Makes every file of fd's filesystem durable (syncfs), ordered like async_datasync: it covers
  // at least the writes to `fd` an async_datasync would. It is for many files synced at about
  // the same moment (every log under flush=interval): the backend serves all the requests that
  // arrive while one syncfs runs with the next one, so a shard with 1 000 such logs makes a few
  // syncfs calls, and the disk a few cache flushes, per interval instead of 1 000 fdatasyncs.
  // An error is the filesystem's (a writeback error on any of its files since the sync root was
  // opened): it fails every request that syncfs served, and every later one. Without a sync root
  // (make_backend), for a file of another filesystem, or on a kernel whose syncfs does not report
  // writeback errors (before 5.8), it is an fdatasync of `fd`, or an fsync when `fd` is a
  // directory.
  virtual void async_sync_filesystem(int fd, std::string_view what, sync_handler handler) = 0;
  // Starts writeback of the dirty pages in [from, from + length) of `fd` and does not wait for
  // it (sync_file_range with SYNC_FILE_RANGE_WRITE); ordered like async_datasync. It makes
  // nothing durable and an async_datasync must still cover the range: it only leaves that
  // fdatasync less to write, so the fdatasync holds the disk (and the writes queued behind it)
  // for less time. The handler reports whether the start failed; a kernel without the call
  // completes it successfully having done nothing.
  virtual void async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                                     std::string_view what, sync_handler handler) = 0;

  // Drops the pages of [from, from + length) of `fd`'s file from the page cache (posix_fadvise
  // POSIX_FADV_DONTNEED) on a thread of the backend, never the caller's, some time after the
  // call, through a descriptor of its own: the caller may close `fd` meanwhile. For bytes that
  // are durable already (clean pages; dirty ones would be written back first) and that readers
  // are not expected to want soon. A hint only: it changes no data, and its error is logged.
  virtual void drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                                std::string_view what) = 0;

  // Closes `fd` on a thread of the backend, never the caller's, some time after the call; an
  // error is only logged (close cannot undo anything). For a descriptor that may hold the last
  // reference to a file whose name is gone (a checkpoint just replaced by rename): that close
  // frees the file's blocks, and on a filesystem mounted with `discard` it waits for the device
  // to discard them, milliseconds each under load, which the caller's thread must not spend.
  virtual void close_later(int fd, std::string_view what) = 0;

  // Synchronous helpers for the slow paths (open, recovery, roll, truncation).
  virtual result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                      std::string_view what) = 0;
  virtual result<void> truncate(int fd, std::uint64_t size, std::string_view what) = 0;
  virtual result<void> datasync(int fd, std::string_view what) = 0;
};

// The start of the `what` of every write of zeros ahead of a log's end (segment/zero_tail.h),
// so the fault-injecting backend can tell those writes from writes of records.
inline constexpr std::string_view zeros_write_what = "zeros ahead of the end of ";

enum class backend_kind { automatic, io_uring, pwrite };

// Overrides backend_kind::automatic (only): SLUICE_IO_BACKEND=pwrite|io_uring|automatic, so tests
// and CI can run on the fallback. Any other value throws std::runtime_error from make_backend.
inline constexpr const char* backend_env_var = "SLUICE_IO_BACKEND";

// automatic: probe io_uring by creating a real ring; if that fails, log one line saying why and
// use the pwrite backend. io_uring: fail (exception) if it cannot be set up.
// sync_root: a directory opened now, before the files the backend will write (the broker's data
// directory); async_sync_filesystem runs syncfs through it for the files of its filesystem
// (filesystem_syncer.h). Empty: async_sync_filesystem is an fdatasync (fsync for a directory).
std::unique_ptr<backend> make_backend(boost::asio::io_context& ctx,
                                      backend_kind kind = backend_kind::automatic,
                                      const std::filesystem::path& sync_root = {});

}  // namespace sluice::io
