#pragma once
// The storage both sparse indexes share: an mmapped file holding an array of fixed-size
// entries followed by zero bytes up to the preallocated capacity. It knows nothing of what an
// entry means; offset_index and time_index encode, decode and order them.
//
// Lifecycle: open() → append / truncate_to_entries (in memory, visible at once to readers of
// the same object) → write_pending() puts appended entries in the file → flush() makes them
// durable → trim() on roll/close shrinks the file to the entries (the index is then full until
// regrow()). Destroying the object without close() leaves the file preallocated, exactly as a
// crash would; the next open() recovers the valid prefix.
//
// Appended entries wait in memory until write_pending() (which flush, trim, regrow, close and
// release_descriptor call first) writes them with one pwrite; the mapping is for reading. Not
// writing through the mapping matters: with a thousand partitions, index entries written
// through their mappings made every buffered write of the process several times dearer
// (perf/RESULTS.md, workload 5).
//
// Owned by one shard; no locking.

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

#include "index/mmap_file.h"
#include "protocol/result.h"

namespace sluice {

class index_file {
 public:
  // Opens or creates the file and finds its entries:
  //  - a file smaller than the (entry-rounded) max size was trimmed: its entries are its
  //    size / entry_size entries, minus trailing all-zero entries (left by a truncate after
  //    the trim, if the process died before the next trim);
  //  - a file at least that large was preallocated and not trimmed (the process died): its
  //    entries are those before the first all-zero entry.
  // The file is then extended to max_bytes (rounded down to whole entries) for appending; a
  // larger file keeps its size. Errors: index_errc::corrupt_index if the size is not a
  // multiple of entry_size (the file is left untouched), index_errc::bad_max_size if
  // max_bytes < entry_size, errno errors naming the path.
  [[nodiscard]] static result<index_file> open(const std::filesystem::path& path,
                                               std::size_t entry_size, std::size_t max_bytes);

  index_file(index_file&&) noexcept = default;
  index_file& operator=(index_file&&) noexcept = default;

  [[nodiscard]] const std::filesystem::path& path() const { return file_.path(); }
  [[nodiscard]] std::size_t entry_count() const { return count_; }
  // How many entries fit in the file as it is now (entry_count() after trim()).
  [[nodiscard]] std::size_t max_entries() const { return file_.capacity() / entry_size_; }
  [[nodiscard]] bool is_full() const { return count_ >= max_entries(); }

  // REQUIRES: i < entry_count(). The entry_size bytes of entry i; valid until the next append,
  // write_pending or resize.
  [[nodiscard]] const std::byte* entry(std::size_t i) const;
  // REQUIRES: !is_full(), bytes.size() == entry size.
  void append(std::span<const std::byte> bytes);
  // Makes sure the next append() cannot fault for lack of disk space (mmap_file::reserve):
  // ENOSPC now instead of SIGBUS then. Nothing to do when the index is full.
  [[nodiscard]] result<void> reserve_next();
  // Keeps the first n entries (n <= entry_count()) and zeroes the bytes of the rest, so that
  // a crash cannot bring them back. Durable after flush().
  void truncate_to_entries(std::size_t n);

  // The number of leading entries for which pred(i) holds; pred must hold for a prefix of
  // [0, entry_count()) and fail for the rest (binary search, O(log n) calls).
  template <class Pred>
  [[nodiscard]] std::size_t partition_point(Pred pred) const {
    std::size_t lo = 0;       // pred holds for every entry below lo
    std::size_t hi = count_;  // and fails for every entry at or above hi
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (pred(mid)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  // Writes the entries appended since the last call into the file (page cache). Should that
  // fail, they go through the mapping instead (their pages are reserved, reserve_next).
  void write_pending();
  // msync: every append and truncation so far is on disk.
  [[nodiscard]] result<void> flush();
  // The file's descriptor: an fdatasync of it does what flush() does, e.g. asynchronously.
  [[nodiscard]] int fd() const { return file_.fd(); }
  [[nodiscard]] result<void> reopen_descriptor() { return file_.reopen_descriptor(); }
  [[nodiscard]] result<void> release_descriptor() {
    write_pending();
    return file_.release_descriptor();
  }
  // Shrinks the file to entry_count() entries; afterwards is_full() until regrow().
  [[nodiscard]] result<void> trim();
  // Extends a trimmed file back to the max size so appends can continue (a closed segment that
  // becomes active again, e.g. after truncation).
  [[nodiscard]] result<void> regrow();
  // trim() + unmap + close; the first error is returned but the file is closed regardless.
  // Only destruction may follow.
  [[nodiscard]] result<void> close();

 private:
  index_file(mmap_file file, std::size_t entry_size, std::size_t max_bytes, std::size_t count)
      : file_(std::move(file)), entry_size_(entry_size), max_bytes_(max_bytes), count_(count) {}

  [[nodiscard]] bool is_zero_entry(std::size_t i) const;
  [[nodiscard]] std::size_t count_entries(std::size_t size_at_open) const;
  [[nodiscard]] result<void> resize(std::size_t bytes);

  mmap_file file_;
  std::size_t entry_size_;
  std::size_t max_bytes_;  // rounded down to whole entries
  std::size_t count_;
  std::vector<std::byte> pending_;  // entries [count_ - pending entries, count_), not in the file
};

}  // namespace sluice
