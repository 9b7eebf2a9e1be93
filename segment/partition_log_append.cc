// The append path: validate, assign offsets, write through the backend, group-commit fsync,
// acknowledge in offset order; and what happens when a write or an fsync fails.

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "protocol/errc.h"
#include "protocol/record_batch.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/partition_log.h"

namespace sluice {

// One append from acceptance to acknowledgement. Shared with the backend's completion handler,
// which keeps the bytes alive until the write is done even if the log gave up on it.
struct partition_log::pending_append {
  enum class state { queued, writing, written, failed };
  held_bytes bytes;
  append_info info;
  std::shared_ptr<log_file> file;
  offset segment_base;
  file_pos pos;
  state st = state::queued;  // until the end of the turn it was appended in
  append_handler handler;
};

namespace {

constexpr std::uint64_t page_bytes = zero_tail::page_bytes;
const std::array<std::byte, page_bytes> zero_page{};

// Zeros that finish the last page of a write ending at `end` inside a recycled file's old
// bytes: the kernel must otherwise read that page from the disk before it can copy a part of it
// (one synchronous read per group commit, measured in perf/RESULTS.md).
// Only whole pages: a padding that lands after the roll's cut (the backend does not order it
// after the cut) leaves a file ending on a page boundary in zeros, which recovery cuts as the
// zeros ahead of appends.
std::uint64_t recycled_page_padding(const log_file& file, std::uint64_t end) {
  const std::uint64_t pad = (page_bytes - end % page_bytes) % page_bytes;
  return end + pad <= file.recycled_to() ? pad : 0;
}

void complete(boost::asio::io_context& ctx, partition_log::append_handler& h,
              result<append_info> r) {
  if (!h) return;
  boost::asio::post(ctx, [h = std::move(h), r = std::move(r)]() mutable { h(std::move(r)); });
  h = nullptr;
}

}  // namespace

void partition_log::append(held_bytes batch, append_handler handler) {
  const auto checked = check_batch(batch);
  append_after(checked, std::move(batch), std::move(handler));
}

void partition_log::append_checked(held_bytes batch, append_handler handler) {
  // check_batch() passed in this turn: only what may have changed since is checked again.
  const auto checked = check_appendable(batch.size());
  append_after(checked, std::move(batch), std::move(handler));
}

result<void> partition_log::check_batch(byte_span batch) const {
  auto view = record_batch_view::parse(batch);
  if (!view) return view.error();
  if (view->bytes().size() != batch.size()) {
    return make_error(protocol_errc::bad_length,
                      fmt::format("buffer holds {} bytes but its batch length says {}",
                                  batch.size(), view->bytes().size()));
  }
  if (auto r = check_appendable(batch.size()); !r) return r;
  return view->validate();
}

void partition_log::append_after(const result<void>& checked, held_bytes batch,
                                 append_handler handler) {
  auto refuse = [&](error e) {
    result<append_info> r = std::move(e);
    complete(ctx_, handler, std::move(r));
  };
  if (!checked) return refuse(checked.error());
  if (auto r = maybe_roll(batch.size()); !r) return refuse(r.error());
  if (auto r = active().reserve_index_entry(); !r) return refuse(r.error());

  batch_header h = parse_batch_header(batch).value();  // whole and valid: checked above
  h.base_offset = next_offset_;
  set_base_offset(batch, h.base_offset);
  set_partition_leader_epoch(batch, current_epoch_);

  auto p = std::make_shared<pending_append>();
  segment& seg = active();
  p->info = {h.base_offset, h.last_offset()};
  p->file = seg.file();
  p->segment_base = seg.base_offset();
  p->pos = seg.append_batch(h);
  p->bytes = std::move(batch);
  p->handler = std::move(handler);
  next_offset_ = h.next_offset();
  pending_.push_back(std::move(p));
  schedule_submit();
}

result<void> partition_log::check_appendable(std::size_t batch_size) const {
  if (closing_) return make_error(log_errc::log_closed, "log " + dir_.string() + " is closing");
  if (offline_) return error{make_error_code(log_errc::log_offline), offline_->detail};
  if (rollback_error_) {
    return error{rollback_error_->code,
                 "an earlier append failed and is being cut away: " + rollback_error_->detail};
  }
  if (batch_size > config_.max_message_bytes) {
    return make_error(log_errc::batch_too_large,
                      fmt::format("batch of {} bytes exceeds max.message.bytes {}", batch_size,
                                  config_.max_message_bytes));
  }
  return {};
}

result<void> partition_log::maybe_roll(std::size_t batch_size) {
  const segment& seg = active();
  if (seg.empty()) return {};
  bool too_big = seg.size().value + batch_size > config_.segment_bytes;
  bool too_old = clock_.now_ms() - seg.created_ms() >= config_.segment_ms.count();
  bool offsets_exhausted = next_offset_ - seg.base_offset() > std::int64_t{INT32_MAX} - 1'000'000;
  if (too_big || too_old || offsets_exhausted || seg.index_full()) return roll();
  return {};
}

result<void> partition_log::roll() {
  // Nothing here waits for the disk. The old segment's bytes, its sealed indexes and the
  // directory entry naming the new file are synced by the next sync (a group commit, the
  // interval's, close()), which covers the appends after the roll: none of them is called
  // durable, and no checkpoint trusts the sealed indexes, before all of it is on disk.
  segment& old = active();
  if (auto r = old.seal(); !r) return r;
  // Its bytes are synced with the next group commit: its cut-off zeros with them.
  if (cut_to_batches(old.file(), old.size().value)) note_dirty(old.file());
  std::vector<roll_sync> to_sync;
  for (const auto& index : old.index_files()) {
    const int copy = ::fcntl(index.fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return make_errno_error(errno, "dup of " + index.path.string());
    to_sync.push_back({std::make_shared<log_file>(copy, index.path), false});
  }
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return make_errno_error(errno, "open directory " + dir_.string());
  to_sync.push_back({std::make_shared<log_file>(dir_fd, dir_), true});
  auto seg = segment::create(dir_, next_offset_, seg_opts_, clock_.now_ms(), take_recyclable());
  if (!seg) return seg.error();
  release_index_descriptors(old);
  cache_drop_.on_roll(old.base_offset(), old.size().value, config_.page_cache_keep_bytes);
  unsynced_seals_.push_back({old.base_offset(), std::nullopt});
  segments_.emplace(next_offset_, std::move(*seg));
  for (auto& r : to_sync) roll_syncs_.push_back(std::move(r));
  return {};
}

void partition_log::schedule_submit() {
  if (submit_posted_) return;
  submit_posted_ = true;
  boost::asio::post(ctx_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    submit_posted_ = false;
    submit();
  });
}

// The end of an io_context turn: what was appended during it goes to the backend as one
// gathered write per file, and under flush=always a group commit starts for everything written
// or being written that no fdatasync covers yet. Its fdatasync is ordered behind those writes
// by the backend (io_uring links it to the write), so it needs no round trip through here.
void partition_log::submit() {
  active().write_pending_index_entries();
  write_queued();
  maybe_start_sync();
}

void partition_log::write_queued() {
  if (offline_ || rollback_error_) return;  // what is queued will be failed, not written
  const std::size_t cap = config_.flush.kind == flush_policy::mode::interval
                              ? max_write_bytes_interval
                              : std::numeric_limits<std::size_t>::max();
  std::size_t i = pending_.size();
  while (i > 0 && pending_[i - 1]->st == pending_append::state::queued) --i;
  while (i < pending_.size()) {
    std::size_t j = i + 1;
    std::size_t bytes = pending_[i]->bytes.size();
    while (j < pending_.size() && pending_[j]->file == pending_[i]->file &&
           bytes + pending_[j]->bytes.size() <= cap) {
      bytes += pending_[j++]->bytes.size();
    }
    // Zeros are still being written where these bytes go: on_zeros_written() resubmits them,
    // or on_padded_write_done().
    const std::uint64_t start = pending_[i]->pos.value;
    if (zero_tail_.must_wait(*pending_[i]->file, start, start + bytes)) return;
    if (padding_ && padding_->file == pending_[i]->file && start < padding_->to) return;
    start_write(i, j);
    i = j;
  }
}

// One gathered write for pending_[first, last): consecutive appends to the same file, so their
// bytes are contiguous from the first one's position.
void partition_log::start_write(std::size_t first, std::size_t last) {
  std::vector<std::shared_ptr<pending_append>> run(pending_.begin() + static_cast<long>(first),
                                                   pending_.begin() + static_cast<long>(last));
  std::vector<std::span<const std::byte>> buffers;
  buffers.reserve(run.size());
  for (const auto& p : run) {
    p->st = pending_append::state::writing;
    buffers.emplace_back(p->bytes.span());
  }
  const pending_append& head = *run.front();
  const std::shared_ptr<log_file> file = head.file;
  const std::uint64_t write_start = head.pos.value;
  const std::uint64_t write_end = run.back()->pos.value + run.back()->bytes.size();
  // No padding before zeros ahead: those pages are cached already, and a small write's zero
  // write may be about to start where the padding would go.
  const std::uint64_t pad =
      zero_tail_.covers(*file, write_end) || padding_ ? 0 : recycled_page_padding(*file, write_end);
  if (pad > 0) {
    buffers.emplace_back(zero_page.data(), pad);
    padding_ = padding_write{file, write_end + pad, std::nullopt};
  }
  note_dirty(file);
  // The backend's error says "write <what> at position <pos> (...)".
  std::string what = fmt::format("{} (offsets {} to {})", head.file->path().string(),
                                 head.info.base_offset, run.back()->info.last_offset);
  io_.async_write_at(head.file->fd(), head.pos.value, io::write_buffers(buffers), what,
                     [this, alive = std::weak_ptr<bool>(alive_), run = std::move(run),
                      padded = pad > 0](result<std::size_t> r) {
                       if (alive.expired()) return;
                       if (padded) on_padded_write_done();
                       on_write_done(run, std::move(r));
                     });
  maybe_start_writeback(file, write_start, write_end);
  // Only the active file gets zeros ahead: an append that waited for zeros in a file rolled
  // since is written there, and zeros after it would outlive the roll's cut.
  if (config_.flush.kind == flush_policy::mode::always && file == active().file()) {
    zero_tail_.extend_after(file, write_start, write_end);
  }
}

void partition_log::on_padded_write_done() {
  const padding_write done = *std::exchange(padding_, std::nullopt);
  // The file was cut to its batches (a roll) while the padding was in flight, and the padding
  // landed past the cut: cut again; the next sync covers it, as the roll's own cut.
  if (done.cut_to) {
    auto r = io_.truncate(done.file->fd(), *done.cut_to,
                          "cut the padding off " + done.file->path().string());
    if (r) {
      note_dirty(done.file);
    } else {
      spdlog::warn("{}; the log is re-scanned there when next opened", r.error().message());
    }
  }
  schedule_submit();  // writes that waited for it
}

void partition_log::on_zeros_written(const std::shared_ptr<log_file>& cut) {
  // A rolled .log cut again after its zero write: the next sync covers its new size, as the
  // roll's own cut, so a crash does not leave zeros for recovery to re-scan.
  if (cut) note_dirty(cut);
  schedule_submit();
  maybe_finish_close();
}

void partition_log::on_write_done(const std::vector<std::shared_ptr<pending_append>>& run,
                                  result<std::size_t> r) {
  // Already given up on (fenced): the appends were failed when the log went offline.
  if (run.front()->st == pending_append::state::failed) return advance();
  // A failed gathered write fails every append it carried: where its bytes stopped is unknown.
  const auto st = r ? pending_append::state::written : pending_append::state::failed;
  for (const auto& p : run) p->st = st;
  if (!r && !rollback_error_) rollback_error_ = r.error();
  advance();
}

void partition_log::maybe_start_writeback(const std::shared_ptr<log_file>& f,
                                          std::uint64_t write_start, std::uint64_t written_end) {
  if (config_.flush.kind != flush_policy::mode::interval || writeback_kick_bytes == 0) return;
  if (writeback_file_ != f) {  // rolled, or the first write since open
    writeback_file_ = f;
    writeback_from_ = write_start;
  }
  // Whole pages only: a partly filled last page is written again once the next append fills it.
  constexpr std::uint64_t page = 4096;
  const std::uint64_t end = written_end / page * page;
  if (writeback_in_flight_ || end < writeback_from_ + writeback_kick_bytes) return;
  writeback_in_flight_ = true;
  const std::uint64_t from = std::exchange(writeback_from_, end);
  // Ordered behind the write just started (backend.h), so the range is dirty when it runs.
  io_.async_start_writeback(f->fd(), from, end - from, f->path().string(),
                            [this, alive = std::weak_ptr<bool>(alive_), f](result<void> r) {
                              if (alive.expired()) return;
                              writeback_in_flight_ = false;
                              // Only a head start: the interval's fdatasync still covers these
                              // bytes and reports (and fences the log on) any real write error.
                              if (!r) spdlog::warn("{}: {}", dir_.string(), r.error().message());
                            });
}

void partition_log::note_dirty(const std::shared_ptr<log_file>& f) {
  for (const auto& d : dirty_files_) {
    if (d == f) return;
  }
  dirty_files_.push_back(f);
}

bool partition_log::writes_in_flight() const {
  for (const auto& p : pending_) {
    if (p->st == pending_append::state::writing) return true;
  }
  return false;
}

void partition_log::advance() {
  if (offline_) {
    maybe_finish_close();
    return;
  }
  if (config_.flush.kind == flush_policy::mode::interval) acknowledge_written();
  if (rollback_error_ && syncs_.empty() && !writes_in_flight() && !pending_.empty() &&
      pending_.front()->st == pending_append::state::failed) {
    roll_back_failed_writes();
  }
  maybe_finish_close();
}

std::optional<partition_log::position> partition_log::sync_candidates_end() const {
  // Appends written or being written, up to the first that failed or is not submitted yet.
  const pending_append* last = nullptr;
  for (const auto& p : pending_) {
    if (p->st != pending_append::state::writing && p->st != pending_append::state::written) break;
    last = p.get();
  }
  if (last == nullptr) return std::nullopt;
  return position{last->info.last_offset + 1, last->segment_base, last->pos + last->bytes.size()};
}

void partition_log::maybe_start_sync() {
  if (config_.flush.kind != flush_policy::mode::always || offline_) return;
  if (syncs_.size() >= max_syncs_in_flight) return;
  const auto end = sync_candidates_end();
  const offset covered = syncs_.empty() ? visible_.next : syncs_.back().target.next;
  if (end && end->next > covered) start_sync(*end);
}

void partition_log::start_sync(position target) {
  // Syncs every file written since the last sync began; the backend starts each fdatasync only
  // after the writes to that file started before it, so it covers every append below target.
  const std::uint64_t id = next_sync_id_++;
  syncs_.push_back({id, target, false});
  auto files = std::move(dirty_files_);
  dirty_files_.clear();
  auto rolled = std::exchange(roll_syncs_, {});
  if (!rolled.empty()) {
    for (auto& u : unsynced_seals_) {
      if (!u.synced_by) u.synced_by = id;
    }
  }
  auto state = std::make_shared<sync_join>(std::max<std::size_t>(files.size() + rolled.size(), 1));
  auto on_file_synced = [this, alive = std::weak_ptr<bool>(alive_), state, id](result<void> r) {
    if (alive.expired()) return;
    if (!r && !state->first_error) state->first_error = r.error();
    if (--state->remaining > 0) return;
    on_sync_done(id, state->first_error);
  };
  if (files.empty() && rolled.empty()) {
    boost::asio::post(ctx_, [on_file_synced] { on_file_synced(result<void>{}); });
    return;
  }
  for (const auto& f : files) sync_file(f, false, on_file_synced);
  for (const auto& r : rolled) sync_file(r.file, r.directory, on_file_synced);
}

void partition_log::sync_file(const std::shared_ptr<log_file>& f, bool directory,
                              const std::function<void(result<void>)>& done) {
  auto handler = [done, f](result<void> r) { done(std::move(r)); };
  // Under flush=interval every log of the shard syncs about once an interval: one syncfs can
  // serve them all (backend.h), where 1 000 partitions made 1 000 fdatasyncs a second.
  if (config_.flush.kind == flush_policy::mode::interval) {
    io_.async_sync_filesystem(f->fd(), f->path().string(), std::move(handler));
  } else if (directory) {
    io_.async_fsync(f->fd(), f->path().string(), std::move(handler));
  } else {
    io_.async_datasync(f->fd(), f->path().string(), std::move(handler));
  }
}

void partition_log::on_sync_done(std::uint64_t id, const std::optional<error>& err) {
  auto it =
      std::find_if(syncs_.begin(), syncs_.end(), [id](const sync_group& s) { return s.id == id; });
  if (it == syncs_.end()) return;  // dropped by fence()
  if (err) {
    fence(*err);
    return;
  }
  it->done = true;
  // Groups complete in order: a later fdatasync may not cover an earlier group's other files.
  while (!syncs_.empty() && syncs_.front().done) {
    const position target = syncs_.front().target;
    const std::uint64_t finished = syncs_.front().id;
    syncs_.pop_front();
    while (!unsynced_seals_.empty() && unsynced_seals_.front().synced_by == finished) {
      unsynced_seals_.pop_front();
    }
    acknowledge_below(target.next);
    // Durable up to the target, or to what was acknowledged if a write below it failed.
    const position& d = target.next <= visible_.next ? target : visible_;
    if (d.next > durable_.next) durable_ = d;
  }
  drop_cache_behind_durable();
  if (clock_.now_ms() - last_checkpoint_ms_ >= config_.checkpoint_interval.count()) {
    start_periodic_checkpoint();
  }
  // The next group commit starts at the end of this turn: the appenders just acknowledged may
  // append again first, and ride it too.
  schedule_submit();
  advance();
}

void partition_log::drop_cache_behind_durable() {
  std::int64_t keep = config_.page_cache_keep_bytes;
  if (cache_share_) {
    cache_share_->note_durable(clock_.now_ms());
    keep = cache_share_->keep_bytes(keep);
  }
  drop_cache_keeping(keep);
}

void partition_log::drop_cache_keeping(std::int64_t keep_bytes) {
  cache_drop_.on_durable(io_, durable_.segment_base, durable_.pos.value, keep_bytes,
                         [this](offset base) -> const log_file* {
                           const auto it = segments_.find(base);
                           return it == segments_.end() ? nullptr : it->second->file().get();
                         });
}

void partition_log::join_page_cache_budget(std::shared_ptr<page_cache_budget> budget) {
  cache_share_ = std::make_unique<page_cache_budget::share>(std::move(budget));
}

void partition_log::check_page_cache_idle() {
  if (!cache_share_ || !cache_share_->expire_if_idle(clock_.now_ms())) return;
  // A topic that keeps everything keeps it idle too.
  if (config_.page_cache_keep_bytes >= 0) drop_cache_keeping(0);
}

void partition_log::acknowledge_written() {
  while (!pending_.empty() && pending_.front()->st == pending_append::state::written) {
    acknowledge_front();
  }
}

void partition_log::acknowledge_below(offset end) {
  while (!pending_.empty() && pending_.front()->st == pending_append::state::written &&
         pending_.front()->info.last_offset < end) {
    acknowledge_front();
  }
}

void partition_log::acknowledge_front() {
  std::shared_ptr<pending_append> p = std::move(pending_.front());
  pending_.pop_front();
  visible_ = {p->info.last_offset + 1, p->segment_base, p->pos + p->bytes.size()};
  complete(ctx_, p->handler, p->info);
}

void partition_log::roll_back_failed_writes() {
  // The front append's write failed and nothing is in flight: everything from it on is cut
  // away, so no partial or later batch can ever be read, and appends may resume.
  error err = *rollback_error_;
  const pending_append& first = *pending_.front();
  offset cut = first.info.base_offset;
  spdlog::warn("{}: {}; cutting the log back to offset {}", dir_.string(), err.message(), cut);
  result<void> r;
  while (r && active().base_offset() > first.segment_base) {
    r = active().remove();
    segments_.erase(std::prev(segments_.end()));
  }
  if (r) r = active().reopen_indexes();
  if (r) r = active().truncate(first.pos, cut, io_);
  zero_tail_.forget(*active().file());
  next_offset_ = cut;
  writeback_file_.reset();  // writes start again below where early writeback had got to
  rollback_error_.reset();
  if (on_cut_back_) on_cut_back_(cut);
  fail_pending(err);
  if (!r) fence(r.error());
}

void partition_log::fail_pending(const error& e) {
  for (auto& p : pending_) {
    result<append_info> r =
        error{e.code, fmt::format("append at offset {} failed: {}", p->info.base_offset, e.detail)};
    complete(ctx_, p->handler, std::move(r));
    p->st = pending_append::state::failed;
  }
  pending_.clear();
}

void partition_log::fence(const error& e) {
  // After a failed fdatasync the kernel may have dropped the dirty pages, so nothing past the
  // last good sync can be trusted: stop appending, serve only durable data, fail what waits.
  offline_ = error{e.code, fmt::format("{}: {}; the log is offline until it is reopened",
                                       dir_.string(), e.message())};
  spdlog::error("{}", offline_->detail);
  visible_ = durable_;
  syncs_.clear();
  fail_pending(*offline_);
  maybe_finish_close();
}

void partition_log::schedule_flush_timer() {
  if (config_.flush.kind != flush_policy::mode::interval) return;
  // On the grid every log shares (a log's first interval may be shorter).
  flush_timer_.expires_at(config_.flush.next_sync_after(std::chrono::steady_clock::now()));
  flush_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto ec) {
    if (ec || alive.expired()) return;
    on_flush_timer();
  });
}

void partition_log::on_flush_timer() {
  if (!offline_ && syncs_.empty() && (!dirty_files_.empty() || !roll_syncs_.empty())) {
    start_sync(sync_candidates_end().value_or(visible_));
  }
  if (!closing_) schedule_flush_timer();
}

}  // namespace sluice
