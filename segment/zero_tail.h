#pragma once
// Zero-filled space kept ahead of the active segment's end for small durable appends, so the
// fdatasync of a group commit overwrites bytes the file already has and has no size or block
// allocation to persist. On this machine's ext4 a 3 KiB write + fdatasync cycle took 121 µs at
// p50 that way against 183 µs appending (perf/RESULTS.md, "Zeros ahead of the end");
// PostgreSQL pre-zeroes its WAL segments for the same reason.
//
// The zeros go through the backend like any write, in chunks of chunk_bytes started when less
// than half a chunk is left ahead; the next group commit's fdatasync makes them (and the new
// size) durable. A write that would land where zeros are still being written waits for them
// (must_wait): the backend does not order writes among themselves. A file that stops being the
// active one has its zeros cut off (trim). After a crash they are what recovery finds past the
// last batch, and it cuts them without calling them damage (only_zeros_from).
//
// Only small writes get zeros ahead: for a large group commit the metadata is a small part of
// its fdatasync, and zeros would double what the disk writes (64 KiB and 512 KiB cycles measured
// level or slower, with stalls while large chunks were written).
//
// Owned by one partition_log and used on its shard's thread only.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "protocol/result.h"
#include "segment/segment.h"

namespace sluice {

namespace io {
class backend;
}

class zero_tail {
 public:
  static constexpr std::uint64_t chunk_bytes = 128 * 1024;
  static constexpr std::uint64_t small_write_bytes = 32 * 1024;
  // The zeros end on a page boundary, so a file a crash left with zeros at its end is as long
  // as a whole number of pages.
  static constexpr std::uint64_t page_bytes = 4096;

  // `on_written` runs on the shard's thread after each zero write ends, so the owner can start
  // the writes that had to wait. Its argument is the file whose zeros were cut off once the
  // write ended (trim() while it was in flight), else null: its new size needs a sync.
  using written_handler = std::function<void(const std::shared_ptr<log_file>& cut)>;
  zero_tail(io::backend& io, written_handler on_written);
  zero_tail(const zero_tail&) = delete;
  zero_tail& operator=(const zero_tail&) = delete;

  // Whether a write of [start, end) to `file` must wait: zeros are being written where it lands.
  [[nodiscard]] bool must_wait(const log_file& file, std::uint64_t start, std::uint64_t end) const;
  // After starting a write [start, end) to the active file: starts zero-filling the next chunk
  // ahead of `end` when the write is small and less than half a chunk of zeros is left.
  void extend_after(const std::shared_ptr<log_file>& file, std::uint64_t start, std::uint64_t end);
  // `file` gets no more appends (rolled, closing) and its data ends at `end`: cuts its zeros
  // off, now and again once a zero write in flight to it has ended. Whether the file's size
  // changed now (a sync must then cover it). A failed truncate is logged: zeros left behind
  // cost a re-scan when the log is opened, never data.
  bool trim(const std::shared_ptr<log_file>& file, std::uint64_t end);
  // `file` was cut short (truncate): whatever zeros it had ahead are gone.
  void forget(const log_file& file);
  // Whether zeros were written (or are being written) to `file` past `pos`.
  [[nodiscard]] bool covers(const log_file& file, std::uint64_t pos) const {
    return file_.get() == &file && zeroed_to_ > pos;
  }
  // A zero write is in flight (close waits for it: its truncate must come after).
  [[nodiscard]] bool writing() const { return in_flight_.has_value(); }

 private:
  struct range {
    std::shared_ptr<log_file> file;
    std::uint64_t from;
    std::uint64_t to;
  };
  void on_zero_write_done(bool ok);
  bool truncate(const log_file& file, std::uint64_t end);

  io::backend& io_;
  written_handler on_written_;
  std::shared_ptr<log_file> file_;  // the active file the zeros below were written to
  std::uint64_t zeroed_to_ = 0;     // its zeros (written or in flight) end here
  std::optional<range> in_flight_;
  std::optional<std::uint64_t> trim_when_written_;  // in_flight_'s file was trimmed to this
  std::weak_ptr<log_file> failed_;                  // a zero write to this file failed: none again
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Whether the bytes of `fd` from `from` to `end`, the end of the file, look like the zeros a
// zero_tail kept there: all zero, up to a page boundary. (A torn batch is cut either way; this
// only decides whether recovery calls it damage.) Reads the range in chunks.
[[nodiscard]] result<bool> zeros_kept_ahead(int fd, std::uint64_t from, std::uint64_t end,
                                            const std::filesystem::path& path);

}  // namespace sluice
