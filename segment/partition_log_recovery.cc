// Opening a partition log: after a clean close nothing is scanned; after a crash the batches
// past the checkpointed recovery point are re-validated (length, magic, CRC32C, the records as
// an append validates them, offsets in sequence), the log is cut at the first torn or corrupt one,
// and the indexes of what was re-scanned are rebuilt.

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>

#include "protocol/batch_header.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_format.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/page_release.h"
#include "segment/partition_log.h"

namespace sluice {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t scan_chunk_bytes = 1 << 20;

// Removes leftovers of interrupted work (temp files and indexes whose .log is gone) and returns
// the file the last run kept for recycling (partition_log::recycle_segments), if any: the first
// found; any other is a leftover too.
fs::path remove_stale_files(const fs::path& dir) {
  fs::path recyclable;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto& path = entry.path();
    const std::string ext = path.extension().string();
    if (ext == ".recycle" && recyclable.empty()) {
      recyclable = path;
      continue;
    }
    bool orphan_index = (ext == ".index" || ext == ".timeindex") &&
                        !fs::exists(fs::path(path).replace_extension(".log"), ec);
    if (ext == ".tmp" || ext == ".deleted" || ext == ".recycle" || orphan_index) {
      spdlog::info("{}: removing leftover {}", dir.string(), path.filename().string());
      fs::remove(path, ec);
    }
  }
  return recyclable;
}

// Whether a file kept for recycling starts with a batch at or past `log_start`. Retention keeps
// only a segment wholly below the log start, so such a file is a newer segment a power loss
// left under the kept name (the roll's rename to .log was not durable; its batches were never
// acknowledged): written over, its batches could line up with the new segment's and pass for
// them after a crash.
bool holds_offsets_from(const fs::path& file, offset log_start) {
  std::array<std::byte, batch_header_size> head{};
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto n = ::pread(fd, head.data(), head.size(), 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(head.size())) return false;
  auto h = parse_batch_header(head);
  return h && h->base_offset >= log_start;
}

result<std::vector<offset>> list_segment_bases(const fs::path& dir) {
  std::vector<offset> bases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto base = segment::parse_file_name(entry.path().filename().string(), ".log");
    if (base) bases.push_back(*base);
  }
  if (ec) return make_errno_error(ec.value(), "list " + dir.string());
  std::sort(bases.begin(), bases.end());
  return bases;
}

result<std::uint64_t> size_of(const segment& seg) {
  struct stat st {};
  if (::fstat(seg.fd(), &st) != 0)
    return make_errno_error(errno, "stat " + seg.log_path().string());
  return static_cast<std::uint64_t>(st.st_size);
}

// Reads [pos, pos + want) into buf (resized); fewer bytes at the end of the file.
result<std::size_t> read_window(const segment& seg, std::uint64_t pos, std::size_t want,
                                byte_buffer& buf) {
  buf.resize(want);
  std::size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(seg.fd(), buf.data() + got, want - got, static_cast<off_t>(pos + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_errno_error(errno,
                              fmt::format("read {} at {}", seg.log_path().string(), pos + got));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Every whole batch header below `log_start` of a segment retention had closed (wholly
// acknowledged, so only a damaged file ends early; what comes before the damage is shown).
// Batches at or past the log start are not retention's: a recycled file whose rename into a new
// segment a power loss undid holds the new segment's unacknowledged batches under the old name.
void show_headers(const segment& seg, offset log_start, const partition_log::leftover_hook& fn) {
  const file_pos end = seg.size();
  for (file_pos pos{0}; pos < end;) {
    auto h = seg.header_at(pos, end);
    if (!h || !*h) {
      if (!h) spdlog::warn("{}: {}", seg.log_path().string(), h.error().message());
      return;
    }
    if ((*h)->last_offset() >= log_start) return;
    fn(**h);
    pos = pos + (*h)->size_bytes();
  }
}

}  // namespace

result<void> partition_log::recover(const leftover_hook& on_leftover) {
  std::error_code ec;
  const bool created = fs::create_directories(dir_, ec);
  if (ec) return make_errno_error(ec.value(), "create directory " + dir_.string());
  in_page_cache_only_ = files_live_in_page_cache(dir_);
  // A new partition's directory entry is durable before anything in it is called durable:
  // fdatasyncs of its files do not cover the entry naming the directory in its parent.
  if (created && dir_.has_parent_path()) {
    if (auto r = sync_directory(dir_.parent_path()); !r) return r;
  }
  auto cp = read_checkpoint(dir_);
  if (!cp) {
    spdlog::warn("{}; scanning the whole log", cp.error().message());
    cp = std::optional<partition_checkpoint>{};
  }
  // A kept file's bytes hold offsets below the log start (retention deleted it), so below every
  // base a segment can have from now on.
  if (auto kept = remove_stale_files(dir_); !kept.empty()) {
    recyclable_ = recyclable_file{std::move(kept), nullptr};
    if (!recycles()) drop_recyclable();
  }
  if (auto r = load_segments(*cp); !r) return r;
  if (recyclable_ && holds_offsets_from(recyclable_->path, log_start_)) {
    spdlog::info("{}: {} holds offsets from the log start on, not a deleted segment's; deleting it",
                 dir_.string(), recyclable_->path.filename().string());
    drop_recyclable();
  }
  // Segments from this base on may hold bytes no fdatasync covered: there a crash's torn
  // tail or a roll's gap ends the log. Before it every byte was durable.
  offset unsynced_from{std::numeric_limits<std::int64_t>::max()};
  if (*cp && (*cp)->clean) {
    recovery_.clean = true;
    for (auto& [base, seg] : segments_) {
      if (auto r = check_segment_name(*seg); !r) return r;
      std::string why;
      if (seg->index_discarded()) {
        why = fmt::format("{}: its index was lost", seg->log_path().filename().string());
      } else if (auto r = seg->restore_tail(seg->size(), io_); !r) {
        why = r.error().message();
      }
      if (why.empty()) continue;
      spdlog::warn("{}; re-scanning that segment", why);
      bool cut = false;
      if (auto s = scan_segment(*seg, file_pos{0}, cut); !s) return s;
      if (cut) report_damage_before(base);
      if (auto s = seal_if_sealed(*seg); !s) return s;
    }
  } else {
    auto from = restore_trusted_segments(*cp);
    if (!from) return from.error();
    unsynced_from = *from;
  }
  if (auto r = cut_at_offset_gap(unsynced_from); !r) return r;
  if (auto r = drop_segments_below_log_start(on_leftover); !r) return r;
  if (*cp && (*cp)->truncate_to.value >= 0) {
    if (auto r = cut_to(std::max((*cp)->truncate_to, log_start_)); !r) return r;
  }
  return finish_open();
}

result<void> partition_log::load_segments(const std::optional<partition_checkpoint>& cp) {
  auto bases = list_segment_bases(dir_);
  if (!bases) return bases.error();
  for (offset base : *bases) {
    auto seg = segment::open(dir_, base, seg_opts_);
    if (!seg) return seg.error();
    segments_.emplace(base, std::move(*seg));
  }
  log_start_ = cp ? std::max(cp->log_start_offset, offset{0}) : offset{0};
  if (cp) epochs_ = cp->leader_epochs;
  if (segments_.empty()) {
    auto seg = segment::create(dir_, log_start_, seg_opts_, clock_.now_ms());
    if (!seg) return seg.error();
    if (auto r = sync_directory(dir_); !r) return r;
    segments_.emplace(log_start_, std::move(*seg));
  }
  for (auto& [base, seg] : segments_) {
    (void)base;
    seg->set_created_ms(clock_.now_ms());
  }
  return {};
}

result<void> partition_log::drop_segments_below_log_start(const leftover_hook& on_leftover) {
  // A log start past the end of the log is a damaged checkpoint, not a retention that deleted
  // more than there was: trusting it would delete every segment and hide what is appended next.
  if (log_start_ > active().next_offset()) {
    spdlog::error(
        "{}: the checkpoint's log start offset {} is past the end of the log ({}); "
        "keeping every segment (the log starts at {})",
        dir_.string(), log_start_, active().next_offset(), segments_.begin()->first);
    log_start_ = segments_.begin()->first;
    return {};
  }
  // Segments wholly below the log start were being deleted by retention when we stopped.
  while (segments_.size() > 1 && std::next(segments_.begin())->first <= log_start_) {
    if (on_leftover) show_headers(*segments_.begin()->second, log_start_, on_leftover);
    if (auto r = segments_.begin()->second->remove(); !r) return r;
    segments_.erase(segments_.begin());
    ++recovery_.segments_deleted;
  }
  log_start_ = std::max(log_start_, segments_.begin()->first);
  return {};
}

result<offset> partition_log::restore_trusted_segments(
    const std::optional<partition_checkpoint>& cp) {
  // Where the re-scan starts: the checkpointed position in its segment, if that still exists.
  auto start = segments_.begin();
  file_pos from{0};
  if (cp && cp->recovery_point >= log_start_) {
    auto it = segments_.find(cp->recovery_segment);
    if (it != segments_.end()) {
      start = it;
      from = cp->recovery_position;
    }
  }
  // Never from a segment wholly below the log start: retention deleted it (it goes once
  // recovery is done), and a power loss can leave a recycled file under its old name holding a
  // newer segment's batches, which a scan would take for damage and cut the whole log after.
  while (std::next(start) != segments_.end() && std::next(start)->first <= log_start_) {
    ++start;
    from = file_pos{0};
  }
  for (auto it = segments_.begin(); it != start; ++it) {
    // Wholly below the log start: deleted once recovery is done, never read, so not checked
    // (a recycled file a power loss left under its old name holds newer offsets than its name).
    if (std::next(it)->first <= log_start_) continue;
    segment& seg = *it->second;
    if (auto r = check_segment_name(seg); !r) return r.error();
    bool trusted = !seg.index_discarded() && seg.offsets().sanity_check() &&
                   seg.times().sanity_check() && seg.last_time_entry_matches_log() &&
                   seg.restore_tail(seg.size(), io_);
    if (!trusted) {
      spdlog::warn("{}: index of {} is inconsistent; rebuilding it", dir_.string(),
                   seg.log_path().filename().string());
      bool cut = false;
      if (auto r = scan_segment(seg, file_pos{0}, cut); !r) return r.error();
      if (cut) report_damage_before(it->first);
      if (auto r = seal_if_sealed(seg); !r) return r.error();
    }
  }
  const offset unsynced_from = start->first;
  for (auto it = start; it != segments_.end(); ++it) {
    bool cut = false;
    segment& seg = *it->second;
    const bool from_checkpoint =
        it == start && !seg.index_discarded() && seg.last_time_entry_matches_log();
    if (auto r = scan_segment(seg, from_checkpoint ? from : file_pos{0}, cut); !r) {
      return r.error();
    }
    if (cut) {
      if (auto r = delete_segments_after(it->first); !r) return r.error();
      break;
    }
    if (auto r = seal_if_sealed(seg); !r) return r.error();
  }
  return unsynced_from;
}

result<void> partition_log::seal_if_sealed(segment& seg) {
  // A re-scanned segment that is not the last one was rolled before: its rebuilt indexes get
  // the final time entry and the trim a roll gives them.
  if (&seg == &active()) return {};
  return seg.seal();
}

result<void> partition_log::check_segment_name(const segment& seg) const {
  // A durable segment whose first batch is not at the offset its name says was renamed or
  // copied by hand: serving it would answer offsets with other offsets' records, and cutting it
  // would destroy intact batches. The log does not open; the error names the file. (Where bytes
  // may be unsynced, a crash can leave anything at a new segment's start: the scan cuts it.)
  auto first = seg.header_at(file_pos{0}, seg.size());
  if (!first || !*first || (*first)->base_offset == seg.base_offset()) return {};
  return make_error(log_errc::corrupt_log,
                    fmt::format("{} holds offsets from {} but its name says {}: rename it to "
                                "match, or move it out of {}",
                                seg.log_path().string(), (*first)->base_offset, seg.base_offset(),
                                dir_.string()));
}

void partition_log::report_damage_before(offset base) {
  // Damage where every byte was durable is not a crash's torn tail: the segments after it were
  // acknowledged, so they stay, and only the damaged segment's rest is lost.
  const auto next = segments_.upper_bound(base);
  if (next == segments_.end()) return;
  const offset lost_from = segments_.at(base)->next_offset();
  spdlog::error("{}: offsets {} to {} are lost to the damage in {}; the log goes on from offset {}",
                dir_.string(), lost_from, offset{next->first.value - 1},
                segments_.at(base)->log_path().filename().string(), next->first);
  recovery_.cut_reason += fmt::format(" (offsets {} to {} lost; later segments kept)", lost_from,
                                      offset{next->first.value - 1});
}

result<void> partition_log::scan_segment(segment& seg, file_pos from, bool& cut) {
  auto file_size = size_of(seg);
  if (!file_size) return file_size.error();
  if (!rescanned_from_ || seg.base_offset() < *rescanned_from_) rescanned_from_ = seg.base_offset();
  if (from.value > *file_size || !seg.restore_tail(from, io_)) {
    from = file_pos{0};  // the trusted part is not what the checkpoint said: re-scan it all
    if (auto r = seg.restore_tail(from, io_); !r) return r;
  }
  byte_buffer window;
  std::uint64_t window_start = 0;
  std::size_t window_size = 0;
  std::uint64_t pos = from.value;
  std::string bad;  // why scanning stopped before the end of the file
  while (pos < *file_size) {
    std::uint64_t in_window = pos - window_start;
    if (pos < window_start || in_window + batch_header_size > window_size) {
      auto n = read_window(seg, pos, scan_chunk_bytes, window);
      if (!n) return n.error();
      window_start = pos, window_size = *n, in_window = 0;
    }
    std::uint64_t left = *file_size - pos;
    if (left < batch_header_size) {
      bad = fmt::format("a torn batch header: {} bytes at the end", left);
      break;
    }
    auto h = parse_batch_header(byte_span(window).subspan(in_window, batch_header_size));
    if (!h) {
      bad = h.error().message();
      break;
    }
    if (h->size_bytes() > left) {
      bad = fmt::format("a torn batch: {} bytes claimed, {} present", h->size_bytes(), left);
      break;
    }
    if (in_window + h->size_bytes() > window_size) {
      auto n = read_window(seg, pos, std::max(scan_chunk_bytes, h->size_bytes()), window);
      if (!n) return n.error();
      window_start = pos, window_size = *n, in_window = 0;
    }
    auto view = record_batch_view::parse(byte_span(window).subspan(in_window, h->size_bytes()));
    if (!view) {
      bad = view.error().message();
      break;
    }
    // The checks an append makes (CRC32C first, then the records): a batch whose CRC matches
    // can still hold records that do not decode (written by something else, or crafted).
    if (auto valid = view->validate(); !valid) {
      bad = valid.error().message();
      break;
    }
    if (h->base_offset != seg.next_offset()) {
      bad = fmt::format("batch offset {} where {} was expected", h->base_offset, seg.next_offset());
      break;
    }
    if (auto r = seg.reserve_index_entry(); !r) return r;
    seg.append_batch(*h);
    pos += h->size_bytes();
    recovery_.bytes_scanned += h->size_bytes();
    ++recovery_.batches_scanned;
  }
  if (pos >= *file_size) return {};
  auto zeros = zeros_kept_ahead(seg.fd(), pos, *file_size, seg.log_path());
  if (!zeros) return zeros.error();
  if (*zeros) {  // the space zero_tail keeps ahead of appends: no batch was ever there
    recovery_.zeros_trimmed += *file_size - pos;
    spdlog::info("{}: cutting {} bytes of zeros kept ahead of appends off {}", dir_.string(),
                 *file_size - pos, seg.log_path().filename().string());
    return seg.truncate(file_pos{pos}, seg.next_offset(), io_);
  }
  recovery_.bytes_truncated += *file_size - pos;
  if (const auto next = segments_.upper_bound(seg.base_offset());
      next != segments_.end() && next->first == seg.next_offset()) {
    // The next segment continues the offsets, so these bytes past the batches held none of
    // them: a recycled file's old bytes that its roll's cut did not remove. Nothing is lost.
    spdlog::info(
        "{}: cutting {} bytes past the batches of {} ({}); the next segment continues "
        "at offset {}",
        dir_.string(), *file_size - pos, seg.log_path().filename().string(), bad, next->first);
    return seg.truncate(file_pos{pos}, seg.next_offset(), io_);
  }
  cut = true;
  recovery_.cut_at = seg.next_offset();
  recovery_.cut_reason =
      fmt::format("{} at position {}: {}", seg.log_path().filename().string(), pos, bad);
  spdlog::warn("{}: cutting the log at offset {}: {}", dir_.string(), seg.next_offset(),
               recovery_.cut_reason);
  return seg.truncate(file_pos{pos}, seg.next_offset(), io_);
}

result<void> partition_log::cut_at_offset_gap(offset unsynced_from) {
  // A crash during a roll can leave the new segment on disk while writes to the end of the
  // old one never landed. Nothing at or past such a gap was acknowledged (acknowledgements
  // are in offset order), so the log ends where its offsets stop being contiguous. A gap after
  // a segment that was wholly durable is damage, and what follows it was acknowledged.
  for (auto it = std::next(segments_.begin()); it != segments_.end(); ++it) {
    const segment& prev = *std::prev(it)->second;
    if (it->first == prev.next_offset() || std::prev(it)->first < unsynced_from) continue;
    recovery_.cut_at = prev.next_offset();
    recovery_.cut_reason =
        fmt::format("segment {} starts at offset {} but the log before it ends at {}",
                    it->second->log_path().filename().string(), it->first, prev.next_offset());
    spdlog::warn("{}: cutting the log at offset {}: {}", dir_.string(), prev.next_offset(),
                 recovery_.cut_reason);
    return delete_segments_after(std::prev(it)->first);
  }
  return {};
}

result<void> partition_log::delete_segments_after(offset base) {
  while (segments_.rbegin()->first > base) {
    if (auto r = active().remove(); !r) return r;
    segments_.erase(std::prev(segments_.end()));
    ++recovery_.segments_deleted;
  }
  return active().reopen_indexes();
}

result<void> partition_log::finish_open() {
  next_offset_ = active().next_offset();
  // What was re-scanned, and the index entries rebuilt from it, may still be only in the page
  // cache: make them durable before they fall below the new recovery point.
  auto first = rescanned_from_ ? segments_.lower_bound(*rescanned_from_) : segments_.end();
  for (auto it = first; it != segments_.end(); ++it) {
    segment& seg = *it->second;
    if (auto r = io_.datasync(seg.fd(), "fdatasync " + seg.log_path().string()); !r) return r;
    if (auto r = seg.flush_indexes(); !r) return r;
  }
  visible_ = durable_ = end_position();
  std::erase_if(epochs_, [&](const epoch_entry& e) { return e.start_offset >= next_offset_; });
  current_epoch_ = epochs_.empty() ? leader_epoch{0} : epochs_.back().epoch;
  for (auto it = segments_.begin(); it != std::prev(segments_.end()); ++it) {
    release_index_descriptors(*it->second);
  }
  return checkpoint();
}

}  // namespace sluice
