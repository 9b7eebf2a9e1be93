#pragma once
// One asynchronous operation of a backend, from the call that starts it to its handler: the
// state a backend keeps while the kernel or a worker thread holds the operation.
//
// Ownership: the op owns its handler and a copy of `what`; it does NOT own the bytes in `rest`,
// which the caller keeps alive until the handler has run (see backend.h). The backend owns the op
// until it calls run_handler() or destroys it uncalled.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/result.h"
#include "segment/io/backend.h"

namespace sluice::io {

enum class op_kind { write, sync };

// What the backend does after recording a syscall result.
enum class op_step {
  again,  // issue the syscall again for what is left (short write or EINTR)
  done,   // finished, successfully or not: call run_handler()
};

struct pending_op {
  op_kind kind = op_kind::write;
  int fd = -1;
  std::uint64_t pos = 0;            // where the first byte of `rest` goes (writes)
  std::span<const std::byte> rest;  // bytes not yet written; owned by the caller
  std::size_t done = 0;             // bytes written so far
  std::string what;
  write_handler on_write;
  sync_handler on_sync;
  std::optional<error> failure;  // set when the op finished with an error

  static std::unique_ptr<pending_op> write(int fd, std::uint64_t pos,
                                           std::span<const std::byte> data, std::string_view what,
                                           write_handler handler);
  static std::unique_ptr<pending_op> sync(int fd, std::string_view what, sync_handler handler);

  // Byte count for the next write syscall: all of `rest`, capped to what one syscall accepts.
  [[nodiscard]] unsigned next_chunk() const;

  // Records the result of one write or fdatasync syscall: bytes written (writes) or 0 (sync) on
  // success, -errno on failure. A short write advances `pos`/`rest` and asks for another write;
  // it is not an error by itself. A write that makes no progress fails with EIO.
  op_step record(long res);

  // Calls the handler with the outcome. REQUIRES: record() returned op_step::done.
  void run_handler();

 private:
  void fail(int err, std::string_view note);
};

}  // namespace sluice::io
