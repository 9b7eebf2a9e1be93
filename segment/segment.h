#pragma once
// One segment of a partition log: `<base>.log` (record batches back to back, exactly as on the
// wire), its sparse `<base>.index` and `<base>.timeindex`, all named by the 20-digit base offset.
//
// A segment is owned by one partition_log and touched only by that log's shard thread; it holds
// no lock. It keeps the bookkeeping of its tail (size, next offset, largest timestamp, bytes
// since the last index entry); the bytes themselves are written by the partition log through
// the I/O backend. The .log file descriptor is shared (log_file) so a reader's slice stays
// readable after retention has deleted the segment.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/offset_index.h"
#include "index/time_index.h"
#include "protocol/batch_header.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

namespace io {
class backend;
}

// An open .log file descriptor, closed when the last owner lets go.
class log_file {
 public:
  log_file(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  ~log_file();
  log_file(const log_file&) = delete;
  log_file& operator=(const log_file&) = delete;

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // A recycled file (segment::create) still holds an earlier segment's bytes up to here, past
  // where this segment's batches end; 0 once the file was cut to its batches.
  [[nodiscard]] std::uint64_t recycled_to() const { return recycled_to_; }
  void set_recycled_to(std::uint64_t end) { recycled_to_ = end; }

 private:
  int fd_;
  std::filesystem::path path_;
  std::uint64_t recycled_to_ = 0;
};

struct segment_options {
  std::uint32_t index_interval_bytes = 4096;
  std::uint32_t index_max_bytes = 10U << 20;
};

// A batch header read from a segment, with where it starts.
struct located_batch {
  file_pos position;
  batch_header header;
};

class segment {
 public:
  // Creates the three files of a new, empty segment (fails if the .log already exists). With
  // `recycled` (a file retire_for_recycling() left), that file becomes the .log: its blocks are
  // written over instead of allocated, so a group commit's fdatasync has no size or block
  // allocation to persist. Its old bytes stay past the segment's end (log_file::recycled_to)
  // until the file is cut; they hold only offsets below this segment's base, which recovery and
  // restore_tail() refuse. A recycled file that cannot be renamed is deleted and a new one made.
  static result<std::unique_ptr<segment>> create(const std::filesystem::path& dir, offset base,
                                                 const segment_options& opts, std::int64_t now_ms,
                                                 const std::filesystem::path& recycled = {});
  // Opens an existing segment. Its tail state is not known until restore_tail() or recovery.
  static result<std::unique_ptr<segment>> open(const std::filesystem::path& dir, offset base,
                                               const segment_options& opts);

  static std::string file_stem(offset base);  // 20 zero-padded digits
  // The base offset named by a segment file name ("00000000000000000042.log" -> 42).
  static std::optional<offset> parse_file_name(const std::string& name, std::string_view ext);

  [[nodiscard]] offset base_offset() const { return base_; }
  [[nodiscard]] file_pos size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_.value == 0; }
  [[nodiscard]] offset next_offset() const { return next_offset_; }
  [[nodiscard]] std::int64_t max_timestamp() const { return max_timestamp_; }
  // What retention.ms dates the segment by: its newest record's timestamp, or, when no record
  // has one (-1, NO_TIMESTAMP), when its .log was last written (the file's mtime, as Kafka
  // does); a segment whose file cannot be looked at counts from its creation.
  [[nodiscard]] std::int64_t newest_timestamp_ms() const;
  // When the segment started, for segment.ms. A reopened segment counts from its reopening.
  [[nodiscard]] std::int64_t created_ms() const { return created_ms_; }
  void set_created_ms(std::int64_t ms) { created_ms_ = ms; }
  [[nodiscard]] int fd() const { return file_->fd(); }
  [[nodiscard]] const std::shared_ptr<log_file>& file() const { return file_; }
  [[nodiscard]] const std::filesystem::path& log_path() const { return file_->path(); }
  // True when open() found an index file that could not be one and started it empty: the
  // indexes must be rebuilt from the log before they are trusted.
  [[nodiscard]] bool index_discarded() const { return index_discarded_; }
  // Whether the time index's last entry, where the segment's max timestamp comes from after a
  // clean shutdown, agrees with the batch it names (checked before the indexes are trusted).
  [[nodiscard]] bool last_time_entry_matches_log() const;
  [[nodiscard]] bool index_full() const { return offsets_.is_full() || times_.is_full(); }
  [[nodiscard]] const offset_index& offsets() const { return offsets_; }
  [[nodiscard]] const time_index& times() const { return times_; }

  // Accounts for a batch placed at size() (its base offset already assigned) and indexes it
  // every index_interval_bytes, as Kafka does. Returns the batch's position.
  // REQUIRES: reserve_index_entry() succeeded since the last append_batch.
  file_pos append_batch(const batch_header& h);
  // Allocates the index pages the next append_batch (or seal) may write: the indexes are
  // sparse mmapped files, and writing a page the file system cannot back is a SIGBUS. On a full
  // disk this fails with ENOSPC instead, and nothing changed.
  [[nodiscard]] result<void> reserve_index_entry();

  // Header of the batch starting at `pos`; nullopt when pos >= end.
  [[nodiscard]] result<std::optional<batch_header>> header_at(file_pos pos, file_pos end) const;
  // A batch found in the log: where it starts and its header (nullopt: none, position == end).
  struct batch_location {
    file_pos position;
    std::optional<batch_header> header;
  };
  // The first batch whose last offset >= target, scanning forward from the index entry at or
  // below target; position `end` when no batch before `end` qualifies.
  [[nodiscard]] result<batch_location> find_batch(offset target, file_pos end) const;
  // Whole batches from one position: where they end, and the offset a reader continues from
  // (the base offset of the batch at `end`, or one past the last batch's last offset).
  struct batch_run {
    file_pos end;
    offset next;
  };
  // The whole batches from `first` that fit in max_bytes (at least one batch), not past `end`.
  // REQUIRES: first.header is set.
  [[nodiscard]] result<batch_run> whole_batches(const batch_location& first, std::size_t max_bytes,
                                                file_pos end) const;
  // Position of the first batch whose max timestamp >= ts, or `end`.
  [[nodiscard]] result<file_pos> find_timestamp(std::int64_t ts, file_pos end) const;

  // Re-derives the tail state of a segment whose bytes up to `trusted_end` are known good and
  // whose indexes are trusted below `trusted_next` (entries at or above are dropped): reads the
  // batch headers from the last surviving index entry to trusted_end. The log file is cut at
  // trusted_end if longer.
  [[nodiscard]] result<void> restore_tail(file_pos trusted_end, io::backend& io);
  // Cuts the segment so it ends at `pos`, where the batch holding `new_next` starts (or the
  // end); indexes lose every entry >= new_next.
  [[nodiscard]] result<void> truncate(file_pos pos, offset new_next, io::backend& io);

  // On roll and close: final time-index entry, indexes trimmed to their entries. Nothing is
  // synced: the caller syncs the indexes (flush_indexes(), or fdatasyncs of index_files())
  // before a checkpoint trusts them, as it does the .log.
  [[nodiscard]] result<void> seal();
  [[nodiscard]] result<void> flush_indexes();
  // Puts the index entries appended so far in the index files (one pwrite each), as the end of
  // a turn does; flush_indexes(), seal() and release_index_descriptors() do it first.
  void write_pending_index_entries() {
    offsets_.write_pending();
    times_.write_pending();
  }
  struct index_file_ref {
    int fd;
    const std::filesystem::path& path;
  };
  // The two index files: fdatasyncs of both descriptors do what flush_indexes() does.
  // REQUIRES: the descriptors were not released (the active segment's never are).
  [[nodiscard]] std::array<index_file_ref, 2> index_files() const {
    return {index_file_ref{offsets_.fd(), offsets_.path()},
            index_file_ref{times_.fd(), times_.path()}};
  }
  // Closes the index files' descriptors of a sealed segment and keeps their mappings, so a
  // partition's segments cost one descriptor each (the .log's) instead of three: a broker
  // with many partitions and a long history otherwise runs out of descriptors (EMFILE).
  // Whatever needs an index descriptor later (regrow, truncate) reopens the file by path.
  [[nodiscard]] result<void> release_index_descriptors();
  // Makes a sealed segment appendable again (its indexes regrow to full size and have their
  // descriptors again, as index_files() requires), for when the segment after it was cut away.
  [[nodiscard]] result<void> reopen_indexes();
  // Unlinks the three files; readers holding file() keep reading.
  [[nodiscard]] result<void> remove();
  // Like remove(), but the .log is renamed to `to` for a later create() to write over.
  [[nodiscard]] result<void> retire_for_recycling(const std::filesystem::path& to);
  // New descriptors on the three files (the .log's a dup, the indexes' opened again). While one is
  // open, a removed file keeps its blocks, so the caller chooses which thread pays for freeing them
  // when it closes the last one: on a `discard` mount that is a synchronous discard of up to
  // segment.bytes. A descriptor the process cannot make (EMFILE) is left out; that file is then
  // freed wherever its last owner lets go.
  [[nodiscard]] std::vector<int> hold_files() const;

 private:
  segment(offset base, std::shared_ptr<log_file> file, offset_index offsets, time_index times,
          const segment_options& opts);
  void reset_tail_from_indexes();
  // Whether the batch at the entry's position ends at the entry's offset, as every entry's
  // does; logs a warning when not.
  [[nodiscard]] bool entry_matches_log(const offset_index::entry& e, file_pos end) const;
  [[nodiscard]] bool time_entry_matches_log(const time_index::entry& e, file_pos end) const;

  offset base_;
  std::shared_ptr<log_file> file_;
  offset_index offsets_;
  time_index times_;
  segment_options opts_;
  file_pos size_{0};
  offset next_offset_;
  std::int64_t max_timestamp_ = -1;
  offset offset_of_max_timestamp_;
  std::uint64_t bytes_since_index_entry_ = 0;
  std::int64_t created_ms_ = 0;
  bool index_discarded_ = false;
};

}  // namespace sluice
