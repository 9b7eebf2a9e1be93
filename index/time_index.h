#pragma once
// One segment's sparse time index (`<base>.timeindex`, Kafka's format, see index_format.h).
// An entry (T, O) means "up to offset O the largest timestamp is T", so any record with a
// timestamp > T lies after O. Timestamps strictly increase from entry to entry: the segment
// offers (max timestamp so far, offset holding it) with each offset-index entry and once more
// on roll, and append() keeps only a new maximum (Kafka's maybeAppend).
//
// Owned by one shard, no locking. Appends are visible to lookups at once and durable after
// flush(). The file is preallocated to max_bytes while the segment is active; trim() (on roll)
// and close() shrink it to the entries. Destroying it without close() is what a crash does.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "index/index_file.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

class time_index {
 public:
  struct entry {
    std::int64_t timestamp;
    sluice::offset offset;
    friend bool operator==(const entry&, const entry&) = default;
  };

  // Opens or creates the time index of the segment starting at `base`, with the same rules as
  // offset_index::open (entries are 12 bytes): a file smaller than max_bytes (rounded down to
  // whole entries) is trimmed and holds size/12 entries minus a zeroed tail; a larger or equal
  // one holds the entries before the first all-zero entry. A size that is not a multiple of 12
  // is index_errc::corrupt_index; max_bytes < 12 is index_errc::bad_max_size.
  [[nodiscard]] static result<time_index> open(const std::filesystem::path& path, offset base,
                                               std::size_t max_bytes);

  time_index(time_index&&) noexcept = default;
  time_index& operator=(time_index&&) noexcept = default;
  time_index(const time_index&) = delete;
  time_index& operator=(const time_index&) = delete;

  [[nodiscard]] offset base_offset() const { return base_; }
  [[nodiscard]] std::size_t entry_count() const { return file_.entry_count(); }
  // Entries the file holds room for now: max_bytes/12 while active, entry_count() after trim().
  [[nodiscard]] std::size_t max_entries() const { return file_.max_entries(); }
  // True when no entry can be appended: the segment must roll (or regrow() after a trim).
  [[nodiscard]] bool is_full() const { return file_.is_full(); }
  [[nodiscard]] const std::filesystem::path& path() const { return file_.path(); }

  [[nodiscard]] std::optional<entry> last_entry() const;
  // Entry i, nullopt if i >= entry_count().
  [[nodiscard]] std::optional<entry> entry_at(std::size_t i) const;
  // Greatest entry whose timestamp <= the given one (binary search); nullopt if none (then
  // scan the segment from its start).
  [[nodiscard]] std::optional<entry> lookup(std::int64_t timestamp) const;

  // Appends (timestamp, off) only if timestamp is greater than the last entry's and the index
  // is not full; an empty index behaves as if its last entry were (no_timestamp = -1, base), as
  // in Kafka, so a timestamp of -1 (or below) never gets an entry. Returns whether it appended.
  // A full index drops the entry rather than failing, so the final entry offered on roll needs
  // no is_full() check; that entry is then lost, which lookups tolerate (they land earlier).
  // REQUIRES (asserted): off >= base and off - base fits in u32; when the timestamp is a new
  // maximum, off >= the last entry's offset.
  bool append(std::int64_t timestamp, offset off);  // not nodiscard: ignoring it is normal
  // Allocates the disk space the next append() writes to: ENOSPC here rather than SIGBUS there
  // (the file is a sparse mmap). Call before append() wherever the disk may be full.
  [[nodiscard]] result<void> reserve_next() { return file_.reserve_next(); }
  // Drops every entry with offset >= off and zeroes their bytes so a later crash cannot
  // resurrect them (durable after flush()).
  void truncate_to(offset off);
  // Drops every entry.
  void clear();
  // Checks every entry: timestamps strictly increasing, offsets non-decreasing and >= base.
  // The error (index_errc::corrupt_index) names the path, the first bad entry's index and its
  // values; the caller then rebuilds the index from the log.
  [[nodiscard]] result<void> sanity_check() const;

  // Puts the entries appended so far in the file (index_file::write_pending).
  void write_pending() { file_.write_pending(); }
  // msync: all appends and truncations so far are on disk.
  [[nodiscard]] result<void> flush();
  // The file's descriptor: an fdatasync of it does what flush() does, e.g. asynchronously.
  // -1 after release_descriptor() until an operation needs one and reopens the file.
  [[nodiscard]] int fd() const { return file_.fd(); }
  // Closes the descriptor; lookups go on through the mapping (mmap_file::release_descriptor).
  [[nodiscard]] result<void> release_descriptor() { return file_.release_descriptor(); }
  // Undoes release_descriptor(): fd() is valid again (mmap_file::reopen_descriptor).
  [[nodiscard]] result<void> reopen_descriptor() { return file_.reopen_descriptor(); }
  // Shrinks the file to entry_count()*12 (on roll and close). The index is then full:
  // appending requires regrow() (or reopening) first.
  [[nodiscard]] result<void> trim();
  // Extends a trimmed file back to max_bytes so appends can continue.
  [[nodiscard]] result<void> regrow();
  // trim + unmap + close the fd; the file is closed even when an error is returned. Only
  // destruction may follow.
  [[nodiscard]] result<void> close();

 private:
  time_index(index_file file, offset base) : file_(std::move(file)), base_(base) {}

  [[nodiscard]] entry decode(std::size_t i) const;

  index_file file_;
  offset base_;
};

}  // namespace sluice
