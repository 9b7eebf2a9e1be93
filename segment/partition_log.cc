// Opening, reading, checkpoints, retention, truncation and close of a partition log. The
// append path is in partition_log_append.cc, recovery in partition_log_recovery.cc.

#include "segment/partition_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <utility>

#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "segment/atomic_file.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/page_release.h"

namespace sluice {

partition_log::partition_log(std::filesystem::path dir, log_config config, io::backend& io,
                             boost::asio::io_context& ctx, const clock& clk)
    : dir_(std::move(dir)),
      config_(config),
      io_(io),
      ctx_(ctx),
      clock_(clk),
      seg_opts_{config.index_interval_bytes, config.index_max_bytes},
      zero_tail_(io, [this](const std::shared_ptr<log_file>& cut) { on_zeros_written(cut); }),
      flush_timer_(ctx),
      alive_(std::make_shared<bool>(true)) {}

// A log dropped without close() (a crash, a test) frees its retired segments here, inline.
partition_log::~partition_log() {
  for (auto& r : retired_) {
    for (const int fd : r.held) ::close(fd);
  }
}

result<std::unique_ptr<partition_log>> partition_log::open(std::filesystem::path dir,
                                                           log_config config, io::backend& io,
                                                           boost::asio::io_context& ctx,
                                                           const clock& clk,
                                                           const leftover_hook& on_leftover) {
  if (auto r = config.validate(); !r) return r.error();
  std::unique_ptr<partition_log> log(new partition_log(std::move(dir), config, io, ctx, clk));
  if (auto r = log->recover(on_leftover); !r) return r.error();
  log->schedule_flush_timer();
  return log;
}

partition_log::position partition_log::end_position() const {
  const segment& seg = *segments_.rbegin()->second;
  return {next_offset_, seg.base_offset(), seg.size()};
}

file_pos partition_log::visible_end_in(const segment& seg) const {
  if (seg.base_offset() < visible_.segment_base) return seg.size();  // wholly acknowledged
  if (seg.base_offset() == visible_.segment_base) return visible_.pos;
  return file_pos{0};  // only appends in flight
}

std::uint64_t partition_log::size_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [base, seg] : segments_) total += seg->size().value;
  return total;
}

std::vector<offset> partition_log::segment_bases() const {
  std::vector<offset> out;
  for (const auto& [base, seg] : segments_) out.push_back(base);
  return out;
}

result<log_slice> partition_log::read(offset from, std::size_t max_bytes) const {
  if (from < log_start_ || from > visible_.next) {
    return make_error(log_errc::offset_out_of_range,
                      fmt::format("offset {} is outside the readable range [{}, {}]", from,
                                  log_start_, visible_.next));
  }
  if (from == visible_.next) return log_slice{nullptr, file_pos{0}, 0, from, from};
  for (auto it = segments_.upper_bound(from); it != segments_.begin();) {
    --it;  // the segment holding `from`, then (if it ends early) none earlier
    const segment& seg = *it->second;
    file_pos end = visible_end_in(seg);
    auto first = seg.find_batch(from, end);
    if (!first) return first.error();
    if (!first->header) break;
    auto run = seg.whole_batches(*first, max_bytes, end);
    if (!run) return run.error();
    return log_slice{seg.file(), first->position, run->end.value - first->position.value,
                     first->header->base_offset, run->next};
  }
  // `from` lies past the end of its segment: read from the next one.
  auto next = segments_.upper_bound(from);
  if (next == segments_.end() || next->first >= visible_.next) {
    return log_slice{nullptr, file_pos{0}, 0, from, from};
  }
  return read(next->first, max_bytes);
}

result<void> partition_log::scan_batch_headers(offset from,
                                               const std::function<void(const batch_header&)>& fn,
                                               offset until) const {
  from = std::max(from, segments_.begin()->first);
  until = std::min(until, visible_.next);
  auto it = segments_.upper_bound(from);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end() && it->first < until; ++it) {
    const segment& seg = *it->second;
    const file_pos end = visible_end_in(seg);
    for (file_pos pos{0}; pos < end;) {
      auto h = seg.header_at(pos, end);
      if (!h) return h.error();
      if (!*h) break;
      if ((*h)->last_offset() >= from) fn(**h);
      pos = pos + (*h)->size_bytes();
    }
  }
  return {};
}

result<void> partition_log::reconfigure(const log_config& config) {
  if (auto r = config.validate(); !r) return r;
  config_ = config;
  seg_opts_ = {config.index_interval_bytes, config.index_max_bytes};
  if (!recycles()) drop_recyclable();
  flush_timer_.cancel();
  schedule_flush_timer();
  advance();
  schedule_submit();  // under flush=always, what was written under interval gets its sync
  return {};
}

namespace {

// The exact offset of the first record at or after ts in a batch whose max timestamp >= ts.
result<offset> first_record_at_or_after(const log_file& file, file_pos pos, std::size_t size,
                                        std::int64_t ts) {
  byte_buffer bytes(size);
  ssize_t n = ::pread(file.fd(), bytes.data(), size, static_cast<off_t>(pos.value));
  if (n != static_cast<ssize_t>(size)) {
    return make_errno_error(n < 0 ? errno : EIO,
                            fmt::format("read {} at {}", file.path().string(), pos));
  }
  auto view = record_batch_view::parse(bytes);
  if (!view) return view.error();
  if (view->header().log_append_time()) return view->header().base_offset;
  auto records = decode_records(*view);
  if (!records) return view->header().base_offset;  // a codec we store but do not decode
  for (const auto& r : records->records()) {
    if (r.timestamp >= ts) return r.offset;
  }
  return view->header().base_offset;
}

}  // namespace

result<std::optional<offset>> partition_log::offset_for_timestamp(std::int64_t ts) const {
  for (const auto& [base, seg] : segments_) {
    if (base >= visible_.next) break;
    if (seg->max_timestamp() < ts) continue;
    file_pos end = visible_end_in(*seg);
    auto pos = seg->find_timestamp(ts, end);
    if (!pos) return pos.error();
    if (*pos == end) continue;
    auto h = seg->header_at(*pos, end);
    if (!h) return h.error();
    auto o = first_record_at_or_after(*seg->file(), *pos, (*h)->size_bytes(), ts);
    if (!o) return o.error();
    return std::optional<offset>{std::max(*o, log_start_)};
  }
  return std::optional<offset>{};
}

result<void> partition_log::begin_leader_epoch(leader_epoch epoch) {
  if (epoch < current_epoch_) {
    return make_error(log_errc::bad_config,
                      fmt::format("leader epoch {} is older than {}", epoch, current_epoch_));
  }
  if (!epochs_.empty() && epochs_.back().epoch == epoch) return {};
  epochs_.push_back({epoch, next_offset_});
  current_epoch_ = epoch;
  return checkpoint();
}

result<std::size_t> partition_log::enforce_retention(const retention_hook& before_deleting) {
  release_retired(false);  // those a reader held the last time
  const std::int64_t now = clock_.now_ms();
  std::uint64_t total = size_bytes();
  std::size_t count = 0;
  offset new_start = log_start_;
  for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
    const segment& seg = *it->second;
    offset next_base = std::next(it)->first;
    // Not wholly durable yet (flush=interval): after a power loss the log could end below a
    // log start past it, and the offsets up to it would be handed out again.
    if (next_base > durable_.next) break;
    bool by_time = config_.retention_ms.count() >= 0 &&
                   now - seg.newest_timestamp_ms() > config_.retention_ms.count();
    bool by_size = config_.retention_bytes >= 0 &&
                   total - seg.size().value >= static_cast<std::uint64_t>(config_.retention_bytes);
    if (!by_time && !by_size) break;
    total -= seg.size().value;
    new_start = next_base;
    ++count;
  }
  if (count == 0) return count;
  if (auto r = delete_segments_below(new_start, before_deleting); !r) return r.error();
  return count;
}

result<void> partition_log::delete_segments_below(offset new_start,
                                                  const retention_hook& before_deleting) {
  // Index entries below the recovery point the checkpoint names are on disk first, as for
  // checkpoint().
  if (auto r = active().flush_indexes(); !r) return r;
  // The new log start is durable before any file goes: a crash in between leaves segments that
  // the next open deletes, never a log start pointing at deleted data.
  const offset old_start = log_start_;
  log_start_ = std::max(log_start_, new_start);
  partition_checkpoint cp = make_checkpoint(false);
  if (auto r = store_checkpoint(cp); !r) {
    log_start_ = old_start;  // nothing was deleted: readers keep what they could read
    return r;
  }
  checkpointed_ = cp;
  if (before_deleting) before_deleting(log_start_);
  while (segments_.size() > 1 && std::next(segments_.begin())->first <= log_start_) {
    spdlog::info("{}: deleting segment {} (log start offset now {})", dir_.string(),
                 segments_.begin()->second->log_path().filename().string(), log_start_);
    if (auto r = retire_first_segment(); !r) return r;
  }
  release_retired(false);
  return {};
}

namespace {

bool free_bytes_at_least(const std::filesystem::path& dir, std::uint64_t bytes) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return false;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize >= bytes;
}

}  // namespace

result<void> partition_log::retire_first_segment() {
  auto it = segments_.begin();
  segment& seg = *it->second;
  // Its offsets are all below the log start, so below every segment's base from now on: what
  // a later segment keeps of them past its batches can never pass for its own.
  if (recycles() && !recyclable_ && seg.size().value >= recycle_min_bytes &&
      free_bytes_at_least(dir_, recycle_min_free_bytes)) {
    auto to = dir_ / (segment::file_stem(seg.base_offset()) + ".recycle");
    if (auto r = seg.retire_for_recycling(to); r) {
      spdlog::info("{}: keeping {} as {} for the next segment to be written over", dir_.string(),
                   seg.log_path().filename().string(), to.filename().string());
      recyclable_ = recyclable_file{std::move(to), seg.file()};
      segments_.erase(it);
      drop_recyclable_cache_later();  // so the roll that takes it has nothing to evict
      return {};
    } else {
      spdlog::warn("{}; deleting it instead", r.error().message());
    }
  }
  retired_segment retired{seg.file(), seg.hold_files()};
  if (auto r = seg.remove(); !r) {
    for (const int fd : retired.held) ::close(fd);
    return r;
  }
  retired_.push_back(std::move(retired));
  segments_.erase(it);  // unmaps and closes, but the held descriptors keep the blocks
  return {};
}

std::filesystem::path partition_log::take_recyclable() {
  if (!recyclable_) return {};
  if (!recycles()) {
    drop_recyclable();
    return {};
  }
  // use_count is exact here: a reader's slice is the only other owner a deleted segment's file
  // can have, and writing over what it is sending would corrupt its answer. Once none has it,
  // no new one can; but what sendfile queued to a socket is still the file's pages.
  if (recyclable_->old && recyclable_->old.use_count() > 1) return {};
  auto cached = cached_bytes(recyclable_->path);
  if (!cached) {
    spdlog::warn("{}; deleting it instead of writing over it", cached.error().message());
    drop_recyclable();
    return {};
  }
  if (*cached == 0) return std::exchange(recyclable_, std::nullopt)->path;
  if (*cached > recycle_inline_release_bytes) {
    if (!recyclable_->told_cached) {
      spdlog::info(
          "{}: {} has {} KiB in the page cache; evicting them off the shard before "
          "writing over it",
          dir_.string(), recyclable_->path.filename().string(), *cached >> 10);
      recyclable_->told_cached = true;
    }
    drop_recyclable_cache_later();  // again: pages a socket held then may have been let go
    return {};
  }
  auto released = release_cached_pages(recyclable_->path);
  if (!released) {
    spdlog::warn("{}; deleting it instead of writing over it", released.error().message());
    drop_recyclable();
    return {};
  }
  if (!*released) {
    spdlog::info(
        "{}: {} still has pages in the page cache (a consumer's socket may hold them); "
        "not writing over it yet",
        dir_.string(), recyclable_->path.filename().string());
    return {};
  }
  return std::exchange(recyclable_, std::nullopt)->path;
}

void partition_log::drop_recyclable_cache_later() const {
  const int fd = ::open(recyclable_->path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {  // a later roll looks again
    if (fd >= 0) ::close(fd);
    return;
  }
  io_.drop_cache_later(fd, 0, static_cast<std::uint64_t>(st.st_size), recyclable_->path.native());
  ::close(fd);  // the backend evicts them through a descriptor of its own
}

void partition_log::drop_recyclable() {
  if (!recyclable_) return;
  const recyclable_file kept = *std::exchange(recyclable_, std::nullopt);
  // Deleted like a retired segment: its blocks are freed by the backend's close, not here.
  const int held = ::open(kept.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (::unlink(kept.path.c_str()) != 0) {
    spdlog::warn("{}", make_errno_error(errno, "delete " + kept.path.string()).message());
  }
  retired_segment retired{kept.old, {}};
  if (held >= 0) retired.held.push_back(held);
  retired_.push_back(std::move(retired));
}

bool partition_log::cut_to_batches(const std::shared_ptr<log_file>& f, std::uint64_t end) {
  bool cut = zero_tail_.trim(f, end);
  if (padding_ && padding_->file == f) padding_->cut_to = end;
  if (f->recycled_to() > end) {
    // A failed cut leaves the old bytes for the next open, which refuses them (their offsets).
    auto r = io_.truncate(f->fd(), end, "cut the recycled bytes off " + f->path().string());
    if (r) {
      cut = true;
    } else {
      spdlog::warn("{}; the log is re-scanned there when next opened", r.error().message());
    }
  }
  f->set_recycled_to(0);
  return cut;
}

void partition_log::release_retired(bool even_if_read) {
  std::erase_if(retired_, [&](retired_segment& r) {
    // use_count is exact here: no new reader can find a segment that left segments_.
    if (!even_if_read && r.log.use_count() > 1) return false;
    r.log.reset();
    for (const int fd : r.held) io_.close_later(fd, "deleted segment");
    return true;
  });
}

void partition_log::release_index_descriptors(segment& sealed) const {
  if (auto r = sealed.release_index_descriptors(); !r) {
    spdlog::warn("{}: {}", dir_.string(), r.error().message());
  }
}

result<void> partition_log::truncate_to(offset end) {
  if (!pending_.empty() || !syncs_.empty()) {
    return make_error(log_errc::busy, "truncate_to needs a log with no appends in flight");
  }
  if (end < log_start_ || end > next_offset_) {
    return make_error(
        log_errc::offset_out_of_range,
        fmt::format("cannot truncate to {}: outside [{}, {}]", end, log_start_, next_offset_));
  }
  if (end == next_offset_) return {};
  // Record the intent first: if we crash half-way, the next open finishes the cut.
  if (auto r = active().flush_indexes(); !r) return r;
  partition_checkpoint intent = make_checkpoint(false);
  intent.truncate_to = end;
  if (intent.recovery_point > end) {
    intent.recovery_point = log_start_;
    intent.recovery_segment = segments_.begin()->first;
    intent.recovery_position = file_pos{0};
  }
  if (auto r = store_checkpoint(intent); !r) return r;
  if (auto r = cut_to(end); !r) {
    fence(r.error());
    return r;
  }
  return checkpoint();
}

result<void> partition_log::cut_to(offset end) {
  bool removed = false;
  while (segments_.size() > 1 && segments_.rbegin()->first >= end) {
    if (auto r = active().remove(); !r) return r;
    segments_.erase(std::prev(segments_.end()));
    removed = true;
  }
  segment& seg = active();
  if (removed) {
    if (auto r = seg.reopen_indexes(); !r) return r;
  }
  auto cut = seg.find_batch(end, seg.size());
  if (!cut) return cut.error();
  const offset new_next = cut->header ? cut->header->base_offset : seg.next_offset();
  if (auto r = seg.truncate(cut->position, new_next, io_); !r) return r;
  zero_tail_.forget(*seg.file());
  if (auto r = io_.datasync(seg.fd(), "fdatasync " + seg.log_path().string()); !r) return r;
  next_offset_ = seg.next_offset();
  visible_ = durable_ = end_position();
  writeback_file_.reset();  // writes start again below where early writeback had got to
  std::erase_if(epochs_, [&](const epoch_entry& e) { return e.start_offset >= next_offset_; });
  // Appends are stamped with an epoch the history has, as after a reopen (finish_open).
  current_epoch_ = epochs_.empty() ? leader_epoch{0} : epochs_.back().epoch;
  return {};
}

void partition_log::close(std::function<void(result<void>)> handler) {
  closing_ = true;
  close_handler_ = std::move(handler);
  flush_timer_.cancel();
  maybe_finish_close();
}

result<void> partition_log::sync_before_close() {
  for (const auto& f : std::exchange(dirty_files_, {})) {
    if (auto r = io_.datasync(f->fd(), "fdatasync " + f->path().string()); !r) return r;
  }
  for (const auto& rolled : std::exchange(roll_syncs_, {})) {
    const auto& path = rolled.file->path();
    auto r = rolled.directory ? sync_directory(path)
                              : io_.datasync(rolled.file->fd(), "fdatasync " + path.string());
    if (!r) return r;
  }
  unsynced_seals_.clear();
  return {};
}

void partition_log::maybe_finish_close() {
  if (!closing_ || !close_handler_ || !pending_.empty() || !syncs_.empty() ||
      checkpoint_in_flight_ || zero_tail_.writing()) {
    return;
  }
  auto finish = [this](result<void> r) {
    boost::asio::post(ctx_, [h = std::move(close_handler_), r = std::move(r)] { h(r); });
    close_handler_ = nullptr;
  };
  if (offline_) return finish(error{make_error_code(log_errc::log_offline), offline_->detail});
  // A clean close leaves each .log exactly as long as its batches: the next open trusts that.
  if (cut_to_batches(active().file(), active().size().value)) note_dirty(active().file());
  // A failed sync fences the log, and fence() comes back here to finish the close (offline).
  if (auto r = sync_before_close(); !r) return fence(r.error());
  durable_ = visible_;
  release_retired(true);
  if (auto r = active().seal(); !r) return finish(r);
  if (auto r = active().flush_indexes(); !r) return finish(r);
  partition_checkpoint cp = make_checkpoint(true);
  auto r = store_checkpoint(cp);
  if (r) checkpointed_ = cp;
  finish(r);
}

}  // namespace sluice
