#pragma once
// One segment's sparse offset index (`<base>.index`, Kafka's format, see index_format.h): maps
// an offset to the position in the .log of a batch at or before it, so a read scans at most
// one index interval of batches. Entries are added by the segment every ~index.interval.bytes
// (offset = the batch's last offset, position = where the batch starts); the first batch of a
// segment never gets one (its position is 0, where a lookup without an entry starts anyway).
//
// Owned by one shard, no locking. Appends are visible to lookups at once and durable after
// flush(). The file is preallocated to max_bytes while the segment is active; trim() (on roll)
// and close() shrink it to the entries. Destroying it without close() is what a crash does.

#include <cstddef>
#include <filesystem>
#include <optional>

#include "index/index_file.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

class offset_index {
 public:
  struct entry {
    sluice::offset offset;
    file_pos position;
    friend bool operator==(const entry&, const entry&) = default;
  };

  // Opens or creates the index of the segment starting at `base`. If the file exists with a
  // size smaller than max_bytes it is a trimmed index and holds exactly size/8 entries (minus
  // trailing all-zero entries, left by truncate_to() if the process died before a trim). If it
  // is larger or equal (preallocated, not trimmed because the process died), the entries are
  // the valid prefix: everything before the first all-zero entry. Then the file is (re)sized
  // to max_bytes for appending. A size that is not a multiple of 8 is index_errc::corrupt_index
  // (file untouched); max_bytes < 8 is index_errc::bad_max_size. Entries are not checked here:
  // call sanity_check() to validate an index you are about to trust.
  [[nodiscard]] static result<offset_index> open(const std::filesystem::path& path, offset base,
                                                 std::size_t max_bytes);

  offset_index(offset_index&&) noexcept = default;
  offset_index& operator=(offset_index&&) noexcept = default;
  offset_index(const offset_index&) = delete;
  offset_index& operator=(const offset_index&) = delete;

  [[nodiscard]] offset base_offset() const { return base_; }
  [[nodiscard]] std::size_t entry_count() const { return file_.entry_count(); }
  // Entries the file holds room for now: max_bytes/8 while active, entry_count() after trim().
  [[nodiscard]] std::size_t max_entries() const { return file_.max_entries(); }
  // True when no entry can be appended: the segment must roll (or regrow() after a trim).
  [[nodiscard]] bool is_full() const { return file_.is_full(); }
  [[nodiscard]] const std::filesystem::path& path() const { return file_.path(); }

  [[nodiscard]] std::optional<entry> last_entry() const;
  // Entry i, nullopt if i >= entry_count().
  [[nodiscard]] std::optional<entry> entry_at(std::size_t i) const;
  // Greatest entry whose offset <= target (binary search); nullopt if none (then scan the
  // .log from position 0).
  [[nodiscard]] std::optional<entry> lookup(offset target) const;

  // REQUIRES (asserted): !is_full(); off >= base and off - base fits in u32; pos fits in u32;
  // off > last entry's offset and pos > last entry's position; (off, pos) != (base, 0), the
  // all-zero entry that marks the end of a crashed index.
  void append(offset off, file_pos pos);
  // Allocates the disk space the next append() writes to: ENOSPC here rather than SIGBUS there
  // (the file is a sparse mmap). Call before append() wherever the disk may be full.
  [[nodiscard]] result<void> reserve_next() { return file_.reserve_next(); }
  // Drops every entry with offset >= off and zeroes their bytes so a later crash cannot
  // resurrect them (durable after flush()).
  void truncate_to(offset off);
  // Drops every entry.
  void clear();
  // Checks every entry: offsets strictly increasing and >= base, positions strictly
  // increasing. The error (index_errc::corrupt_index) names the path, the first bad entry's
  // index and its values; the caller then rebuilds the index from the log.
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
  // Shrinks the file to entry_count()*8 (on roll and close). The index is then full: appending
  // requires regrow() (or reopening) first.
  [[nodiscard]] result<void> trim();
  // Extends a trimmed file back to max_bytes so appends can continue.
  [[nodiscard]] result<void> regrow();
  // trim + unmap + close the fd; the file is closed even when an error is returned. Only
  // destruction may follow.
  [[nodiscard]] result<void> close();

 private:
  offset_index(index_file file, offset base) : file_(std::move(file)), base_(base) {}

  [[nodiscard]] entry decode(std::size_t i) const;

  index_file file_;
  offset base_;
};

}  // namespace sluice
