#include "segment/segment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <limits>

#include "index/errc.h"
#include "protocol/record_batch_format.h"
#include "segment/errc.h"
#include "segment/io/backend.h"

namespace sluice {
namespace fs = std::filesystem;

log_file::~log_file() {
  ::close(fd_);
}

namespace {

struct segment_paths {
  fs::path log, index, timeindex;
};

segment_paths paths_for(const fs::path& dir, offset base) {
  std::string stem = segment::file_stem(base);
  return {dir / (stem + ".log"), dir / (stem + ".index"), dir / (stem + ".timeindex")};
}

result<std::shared_ptr<log_file>> open_log_file(const fs::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) return make_errno_error(errno, "open " + path.string());
  return std::make_shared<log_file>(fd, path);
}

result<std::uint64_t> file_size(int fd, const fs::path& path) {
  off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) return make_errno_error(errno, "size of " + path.string());
  return static_cast<std::uint64_t>(end);
}

// Renames `recycled` to `path` (never over an existing file) and opens it, its old size noted
// as recycled_to; when that fails, `recycled` is deleted and a new, empty file made.
result<std::shared_ptr<log_file>> open_recycled_log_file(const fs::path& recycled,
                                                         const fs::path& path) {
  if (::renameat2(AT_FDCWD, recycled.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
    auto file = open_log_file(path, 0);
    auto size = file ? file_size((*file)->fd(), path) : result<std::uint64_t>(file.error());
    if (!size) {  // the old batches must not stay under the new name
      std::error_code ignored;
      fs::remove(path, ignored);
      return size.error();
    }
    (*file)->set_recycled_to(*size);
    return file;
  }
  spdlog::warn("{}; deleting it and starting {} empty",
               make_errno_error(errno, "reuse " + recycled.string()).message(),
               path.filename().string());
  std::error_code ec;
  fs::remove(recycled, ec);
  return open_log_file(path, O_CREAT | O_EXCL);
}

// Opens an index; one whose file cannot be an index (a size that is no multiple of the entry
// size) is deleted and started empty, and `discarded` set, so the caller rebuilds it from the
// log instead of refusing to open a log whose data is intact.
template <class Index>
result<Index> open_or_discard(const fs::path& path, offset base, std::size_t max_bytes,
                              bool& discarded) {
  auto index = Index::open(path, base, max_bytes);
  if (index || index.error().code != index_errc::corrupt_index) return index;
  spdlog::warn("{}; discarding it, the log will rebuild it", index.error().message());
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return make_errno_error(ec.value(), "remove " + path.string());
  discarded = true;
  return Index::open(path, base, max_bytes);
}

}  // namespace

std::string segment::file_stem(offset base) {
  return fmt::format("{:020d}", base.value);
}

std::optional<offset> segment::parse_file_name(const std::string& name, std::string_view ext) {
  if (name.size() != 20 + ext.size() || !name.ends_with(ext)) return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc{} || end != name.data() + 20) return std::nullopt;
  return offset{v};
}

segment::segment(offset base, std::shared_ptr<log_file> file, offset_index offsets,
                 time_index times, const segment_options& opts)
    : base_(base),
      file_(std::move(file)),
      offsets_(std::move(offsets)),
      times_(std::move(times)),
      opts_(opts),
      next_offset_(base),
      offset_of_max_timestamp_(base) {}

result<std::unique_ptr<segment>> segment::create(const fs::path& dir, offset base,
                                                 const segment_options& opts, std::int64_t now_ms,
                                                 const fs::path& recycled) {
  auto paths = paths_for(dir, base);
  // Stale indexes of a segment that was cut away would otherwise be trusted.
  std::error_code ec;
  fs::remove(paths.index, ec);
  fs::remove(paths.timeindex, ec);
  auto file = recycled.empty() ? open_log_file(paths.log, O_CREAT | O_EXCL)
                               : open_recycled_log_file(recycled, paths.log);
  if (!file) return file.error();
  // A segment that could not be made leaves no .log behind: a recycled one would hold an
  // earlier segment's batches under this name, and any would make the next try fail (EEXIST).
  const auto unmade = [&paths](const error& e) {
    std::error_code ignored;
    fs::remove(paths.log, ignored);
    return e;
  };
  auto offsets = offset_index::open(paths.index, base, opts.index_max_bytes);
  if (!offsets) return unmade(offsets.error());
  auto times = time_index::open(paths.timeindex, base, opts.index_max_bytes);
  if (!times) return unmade(times.error());
  std::unique_ptr<segment> seg(
      new segment(base, std::move(*file), std::move(*offsets), std::move(*times), opts));
  seg->created_ms_ = now_ms;
  return seg;
}

result<std::unique_ptr<segment>> segment::open(const fs::path& dir, offset base,
                                               const segment_options& opts) {
  auto paths = paths_for(dir, base);
  auto file = open_log_file(paths.log, 0);
  if (!file) return file.error();
  auto size = file_size((*file)->fd(), paths.log);
  if (!size) return size.error();
  // A segment with batches but an index file gone (deleted by hand, as Kafka's operators do to
  // have it rebuilt) gets its indexes rebuilt like damaged ones.
  bool damaged = false;
  std::error_code ec;
  for (const auto& index_path : {paths.index, paths.timeindex}) {
    if (*size > 0 && !fs::exists(index_path, ec)) {
      spdlog::warn("{} is missing; the log will rebuild it", index_path.string());
      damaged = true;
    }
  }
  auto offsets = open_or_discard<offset_index>(paths.index, base, opts.index_max_bytes, damaged);
  if (!offsets) return offsets.error();
  auto times = open_or_discard<time_index>(paths.timeindex, base, opts.index_max_bytes, damaged);
  if (!times) return times.error();
  std::unique_ptr<segment> seg(
      new segment(base, std::move(*file), std::move(*offsets), std::move(*times), opts));
  seg->size_ = file_pos{*size};
  seg->index_discarded_ = damaged;
  return seg;
}

result<void> segment::reserve_index_entry() {
  if (auto r = offsets_.reserve_next(); !r) return r;
  return times_.reserve_next();
}

file_pos segment::append_batch(const batch_header& h) {
  file_pos pos = size_;
  if (bytes_since_index_entry_ > opts_.index_interval_bytes && !index_full()) {
    offsets_.append(h.last_offset(), pos);
    times_.append(std::max(max_timestamp_, h.max_timestamp),
                  h.max_timestamp > max_timestamp_ ? h.last_offset() : offset_of_max_timestamp_);
    bytes_since_index_entry_ = 0;
  }
  if (h.max_timestamp > max_timestamp_) {
    max_timestamp_ = h.max_timestamp;
    offset_of_max_timestamp_ = h.last_offset();
  }
  bytes_since_index_entry_ += h.size_bytes();
  size_ = size_ + h.size_bytes();
  next_offset_ = h.next_offset();
  return pos;
}

result<std::optional<batch_header>> segment::header_at(file_pos pos, file_pos end) const {
  if (pos >= end) return std::optional<batch_header>{};
  std::array<std::byte, batch_header_size> buf{};
  ssize_t n = ::pread(fd(), buf.data(), buf.size(), static_cast<off_t>(pos.value));
  if (n < 0) return make_errno_error(errno, fmt::format("read {} at {}", log_path().string(), pos));
  if (static_cast<std::size_t>(n) < buf.size()) {
    return make_error(log_errc::corrupt_log,
                      fmt::format("{}: batch header at {} cut short by the end of the file",
                                  log_path().string(), pos));
  }
  auto h = parse_batch_header(buf);
  if (!h) {
    return make_error(log_errc::corrupt_log,
                      fmt::format("{} at {}: {}", log_path().string(), pos, h.error().message()));
  }
  if (pos.value + h->size_bytes() > end.value) {
    return make_error(log_errc::corrupt_log, fmt::format("{}: batch at {} runs past the end {}",
                                                         log_path().string(), pos, end));
  }
  return std::optional<batch_header>{*h};
}

bool segment::entry_matches_log(const offset_index::entry& e, file_pos end) const {
  auto h = header_at(e.position, end);
  if (h && *h && (*h)->last_offset() == e.offset) return true;
  // Indexes carry no checksum and are trusted after a clean shutdown; a damaged one costs a
  // scan from the segment's start, never a wrong answer.
  spdlog::warn("{}: index entry (offset {}, position {}) does not match the log; scanning instead",
               offsets_.path().string(), e.offset, e.position);
  return false;
}

result<segment::batch_location> segment::find_batch(offset target, file_pos end) const {
  auto entry = offsets_.lookup(target);
  file_pos pos = entry && entry_matches_log(*entry, end) ? entry->position : file_pos{0};
  for (;;) {
    auto h = header_at(pos, end);
    if (!h) return h.error();
    if (!*h || (*h)->last_offset() >= target) return batch_location{pos, *h};
    pos = pos + (*h)->size_bytes();
  }
}

result<segment::batch_run> segment::whole_batches(const batch_location& first,
                                                  std::size_t max_bytes, file_pos end) const {
  SLUICE_ASSERT(first.header.has_value());
  file_pos pos = first.position + first.header->size_bytes();
  offset next = first.header->next_offset();
  const std::uint64_t limit = std::min(end.value, first.position.value + max_bytes);
  // Jump over whole batches with the index: entries mark batch starts in position order. One
  // at `end` is the batch being appended after it (indexed before it is readable): not a jump.
  const std::uint64_t jump_bound = std::min(limit + 1, end.value);
  std::size_t lo = 0, hi = offsets_.entry_count();
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    if (offsets_.entry_at(mid)->position.value < jump_bound)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo > 0) {
    const auto jump = *offsets_.entry_at(lo - 1);
    // A matching entry has a batch at its position, so the loop reads a header there and
    // `next` is set from it before it is returned.
    if (jump.position > pos && entry_matches_log(jump, end)) pos = jump.position;
  }
  for (;;) {
    auto h = header_at(pos, end);
    if (!h) return h.error();
    if (!*h) return batch_run{pos, next};
    if (pos.value + (*h)->size_bytes() > limit) return batch_run{pos, (*h)->base_offset};
    next = (*h)->next_offset();
    pos = pos + (*h)->size_bytes();
  }
}

bool segment::time_entry_matches_log(const time_index::entry& e, file_pos end) const {
  // The entry says no batch up to the one holding its offset is later than its timestamp; the
  // holding batch itself is the part of that claim a single read can check.
  auto found = find_batch(e.offset, end);
  if (found && found->header && found->header->base_offset <= e.offset &&
      found->header->max_timestamp <= e.timestamp) {
    return true;
  }
  spdlog::warn("{}: time index entry (timestamp {}, offset {}) does not match the log",
               times_.path().string(), e.timestamp, e.offset);
  return false;
}

std::int64_t segment::newest_timestamp_ms() const {
  if (max_timestamp_ >= 0) return max_timestamp_;
  struct stat st {};
  if (::fstat(fd(), &st) != 0) return created_ms_;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

bool segment::last_time_entry_matches_log() const {
  auto last = times_.last_entry();
  return !last || time_entry_matches_log(*last, size_);
}

result<file_pos> segment::find_timestamp(std::int64_t ts, file_pos end) const {
  // Every batch up to the one holding the entry's offset has max timestamp <= entry < ts.
  // (At the lowest timestamp there is none: ts - 1 would wrap round to the highest.)
  auto entry = ts > std::numeric_limits<std::int64_t>::min() ? times_.lookup(ts - 1) : std::nullopt;
  const bool trusted = entry && time_entry_matches_log(*entry, end);
  auto found = find_batch(trusted ? entry->offset : base_, end);
  if (!found) return found.error();
  file_pos p = found->position;
  std::optional<batch_header> h = found->header;  // already read: the walk starts from it
  while (h && h->max_timestamp < ts) {
    p = p + h->size_bytes();
    auto next = header_at(p, end);
    if (!next) return next.error();
    h = *next;
  }
  return p;
}

void segment::reset_tail_from_indexes() {
  auto last = offsets_.last_entry();
  size_ = last ? last->position : file_pos{0};
  next_offset_ = base_;
  bytes_since_index_entry_ = 0;
  auto last_time = times_.last_entry();
  max_timestamp_ = last_time ? last_time->timestamp : -1;
  offset_of_max_timestamp_ = last_time ? last_time->offset : base_;
}

result<void> segment::restore_tail(file_pos trusted_end, io::backend& /*io*/) {
  // Drop index entries that point at or past the trusted end; they may describe lost bytes.
  for (auto last = offsets_.last_entry(); last && last->position >= trusted_end;
       last = offsets_.last_entry()) {
    offsets_.truncate_to(last->offset);
  }
  if (auto last = offsets_.last_entry())
    times_.truncate_to(last->offset + 1);
  else
    times_.clear();
  reset_tail_from_indexes();
  // Re-read headers from the last entry's batch (inclusive) to rebuild the tail bookkeeping.
  file_pos pos = size_;
  bool first = true;
  while (pos < trusted_end) {
    auto h = header_at(pos, trusted_end);
    if (!h) return h.error();
    const batch_header& hdr = **h;
    if (auto last = offsets_.last_entry(); first && last) {
      // This batch already has its entry; account without indexing it again. An entry that
      // names another batch is damage: appends would index after an offset the log never had.
      bytes_since_index_entry_ = 0;
      if (hdr.last_offset() != last->offset) {
        return make_error(index_errc::corrupt_index,
                          fmt::format("{}: last entry (offset {}, position {}) does not match "
                                      "the batch there (offsets {} to {})",
                                      offsets_.path().string(), last->offset, last->position,
                                      hdr.base_offset, hdr.last_offset()));
      }
    } else if (hdr.base_offset != next_offset_) {
      // Not this segment's batch: an earlier segment's, left in a recycled file that was not
      // cut to its batches, or damage.
      return make_error(log_errc::corrupt_log,
                        fmt::format("{}: batch at position {} holds offset {} where {} was "
                                    "expected",
                                    log_path().string(), pos, hdr.base_offset, next_offset_));
    }
    first = false;
    if (hdr.max_timestamp > max_timestamp_) {
      max_timestamp_ = hdr.max_timestamp;
      offset_of_max_timestamp_ = hdr.last_offset();
    }
    bytes_since_index_entry_ += hdr.size_bytes();
    next_offset_ = hdr.next_offset();
    pos = pos + hdr.size_bytes();
  }
  size_ = trusted_end;
  return {};
}

result<void> segment::truncate(file_pos pos, offset new_next, io::backend& io) {
  if (auto r = io.truncate(fd(), pos.value, "truncate " + log_path().string()); !r) return r;
  file_->set_recycled_to(0);
  offsets_.truncate_to(new_next);
  times_.truncate_to(new_next);
  return restore_tail(pos, io);
}

result<void> segment::seal() {
  if (auto r = times_.reserve_next(); !r) return r;
  times_.append(max_timestamp_, offset_of_max_timestamp_);
  if (auto r = offsets_.trim(); !r) return r;
  return times_.trim();
}

result<void> segment::flush_indexes() {
  if (auto r = offsets_.flush(); !r) return r;
  return times_.flush();
}

result<void> segment::reopen_indexes() {
  if (offsets_.is_full()) {
    if (auto r = offsets_.regrow(); !r) return r;
  }
  if (times_.is_full()) {
    if (auto r = times_.regrow(); !r) return r;
  }
  // An index trimmed at its maximum size regrows without a system call, so nothing above
  // needed its released descriptor; the next roll and checkpoint fdatasync copies of it.
  if (auto r = offsets_.reopen_descriptor(); !r) return r;
  return times_.reopen_descriptor();
}

namespace {

// Unlinks each file in turn; one already gone is not an error.
result<void> unlink_files(std::initializer_list<const fs::path*> files) {
  for (const auto* p : files) {
    if (::unlink(p->c_str()) != 0 && errno != ENOENT) {
      return make_errno_error(errno, "delete " + p->string());
    }
  }
  return {};
}

}  // namespace

result<void> segment::remove() {
  auto paths = paths_for(file_->path().parent_path(), base_);
  return unlink_files({&paths.log, &paths.index, &paths.timeindex});
}

result<void> segment::retire_for_recycling(const fs::path& to) {
  auto paths = paths_for(file_->path().parent_path(), base_);
  // The indexes go after the rename: a crash in between leaves indexes with no .log, which the
  // next open deletes, never a .log with no indexes below the log start.
  if (::renameat2(AT_FDCWD, paths.log.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    return make_errno_error(errno, "rename " + paths.log.string() + " to " + to.string());
  }
  return unlink_files({&paths.index, &paths.timeindex});
}

result<void> segment::release_index_descriptors() {
  auto offsets_released = offsets_.release_descriptor();
  auto times_released = times_.release_descriptor();
  return offsets_released ? times_released : offsets_released;
}

std::vector<int> segment::hold_files() const {
  std::vector<int> held;
  const auto hold = [&held](int copy) {
    if (copy >= 0) held.push_back(copy);
  };
  hold(::fcntl(file_->fd(), F_DUPFD_CLOEXEC, 0));
  for (const auto* index_path : {&offsets_.path(), &times_.path()}) {
    // A sealed segment's index descriptors are released: a new one holds the file as well.
    hold(::open(index_path->c_str(), O_RDONLY | O_CLOEXEC));
  }
  return held;
}

}  // namespace sluice
