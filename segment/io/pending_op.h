#pragma once
// One asynchronous operation of a backend, from the call that starts it to its handler: the
// state a backend keeps while the kernel or a worker thread holds the operation.
//
// Ownership: the op owns its handler, a copy of `what` and its iovec array; it does NOT own the
// bytes the iovecs point at, which the caller keeps alive until the handler has run (see
// backend.h). The backend owns the op until it calls run_handler() or destroys it uncalled.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.h"
#include "segment/io/backend.h"

namespace sluice::io {

// drop_cache: posix_fadvise(POSIX_FADV_DONTNEED) of [pos, pos + range_bytes), on a descriptor
// of its own (a dup), so the caller may close theirs meanwhile.
enum class op_kind { write, sync, close, drop_cache };

// What a sync op asks of the kernel.
enum class sync_kind {
  data,        // fdatasync
  full,        // fsync
  writeback,   // sync_file_range(SYNC_FILE_RANGE_WRITE) of [pos, pos + range_bytes): a start only
  filesystem,  // syncfs: every file of fd's filesystem (see backend::async_sync_filesystem)
};

// What the backend does after recording a syscall result.
enum class op_step {
  again,  // issue the syscall again for what is left (short write or EINTR)
  done,   // finished, successfully or not: call run_handler()
};

struct pending_op {
  op_kind kind = op_kind::write;
  int fd = -1;
  std::uint64_t pos = 0;          // where the first byte not yet written goes (writes); range start
  std::uint64_t range_bytes = 0;  // sync_kind::writeback and drop_cache: the range's length
  std::vector<iovec> iov;  // the bytes not yet written, from iov[first] on; owned by the caller
  std::size_t first = 0;   // iov[0..first) are written
  std::size_t done = 0;    // bytes written so far
  std::size_t left = 0;    // bytes not yet written
  std::uint64_t seq = 0;   // order in which the backend was asked (ordered syncs, see backend.h)
  // uring_backend only: a sync to link right behind this write while both are queued.
  std::unique_ptr<pending_op> then_sync;
  bool linked = false;  // uring_backend only: the sync is the tail of an io_uring link
  sync_kind sync_what = sync_kind::data;
  std::string what;
  write_handler on_write;
  sync_handler on_sync;
  std::optional<error> failure;  // set when the op finished with an error
  int owned_fd = -1;  // drop_cache's dup of the caller's fd: closed once used, else with the op

  pending_op() = default;
  ~pending_op();
  pending_op(const pending_op&) = delete;
  pending_op& operator=(const pending_op&) = delete;

  static std::unique_ptr<pending_op> write(int fd, std::uint64_t pos, write_buffers data,
                                           std::string_view what, write_handler handler);
  // An fdatasync or an fsync.
  static std::unique_ptr<pending_op> sync(int fd, std::string_view what, sync_handler handler,
                                          sync_kind kind = sync_kind::data);
  // close(fd); no handler.
  static std::unique_ptr<pending_op> close(int fd, std::string_view what);
  // Starts writeback of [from, from + length) without waiting for it.
  static std::unique_ptr<pending_op> writeback(int fd, std::uint64_t from, std::uint64_t length,
                                               std::string_view what, sync_handler handler);
  // Drops [from, from + length) of fd's file from the page cache; no handler. Null when fd
  // cannot be duplicated (the hint is then skipped: it changes no data).
  static std::unique_ptr<pending_op> drop_cache(int fd, std::uint64_t from, std::uint64_t length,
                                                std::string_view what);

  // The iovecs for the next write syscall: the unwritten rest, capped to what one syscall
  // accepts (IOV_MAX vectors, well under 2 GiB).
  [[nodiscard]] std::span<const iovec> next_iovecs() const;

  // Records the result of one write or fdatasync syscall: bytes written (writes) or 0 (sync) on
  // success, -errno on failure. A short write advances `pos` and the iovecs and asks for another
  // write; it is not an error by itself. A write that makes no progress fails with EIO.
  op_step record(long res);

  // Calls the handler with the outcome (a close has no handler: its error is logged).
  // REQUIRES: record() returned op_step::done.
  void run_handler();

 private:
  void advance(std::size_t written);
  void fail(int err, std::string_view note);
};

// close(op.fd) for an op_kind::close op: 0 or -errno. EINTR counts as closed: Linux has released
// the descriptor by then, and closing it again could close one opened meanwhile.
long run_close(const pending_op& op);

// posix_fadvise(DONTNEED) for an op_kind::drop_cache op, then the close of its descriptor, on
// the same thread (should the segment be gone by then, that close frees its blocks, which must
// not happen on a shard): 0 or -errno.
long run_drop_cache(pending_op& op);

// One blocking syscall for `op` on the calling thread (pwritev of what is left, fdatasync,
// fsync, sync_file_range, close or the cache drop): its result, or -errno. Not for
// sync_kind::filesystem, which a filesystem_syncer serves.
long run_syscall(pending_op& op);

// run_syscall until record() says done (a short write is continued).
void run_to_completion(pending_op& op);

}  // namespace sluice::io
