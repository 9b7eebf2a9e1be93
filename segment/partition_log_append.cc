// The append path: validate, assign offsets, write through the backend, group-commit fsync,
// acknowledge in offset order; and what happens when a write or an fsync fails.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "protocol/errc.h"
#include "protocol/record_batch.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/partition_log.h"

namespace sluice {

// One append from acceptance to acknowledgement. Shared with the backend's completion handler,
// which keeps the bytes alive until the write is done even if the log gave up on it.
struct partition_log::pending_append {
  enum class state { writing, written, failed };
  byte_buffer bytes;
  append_info info;
  std::shared_ptr<log_file> file;
  offset segment_base;
  file_pos pos;
  state st = state::writing;
  append_handler handler;
};

namespace {

void complete(boost::asio::io_context& ctx, partition_log::append_handler& h,
              result<append_info> r) {
  if (!h) return;
  boost::asio::post(ctx, [h = std::move(h), r = std::move(r)]() mutable { h(std::move(r)); });
  h = nullptr;
}

}  // namespace

void partition_log::append(byte_buffer batch, append_handler handler) {
  auto refuse = [&](error e) {
    result<append_info> r = std::move(e);
    complete(ctx_, handler, std::move(r));
  };
  auto view = record_batch_view::parse(batch);
  if (!view) return refuse(view.error());
  if (view->bytes().size() != batch.size()) {
    return refuse(make_error(protocol_errc::bad_length,
                             fmt::format("buffer holds {} bytes but its batch length says {}",
                                         batch.size(), view->bytes().size())));
  }
  if (auto r = check_appendable(batch.size()); !r) return refuse(r.error());
  if (auto r = view->validate(); !r) return refuse(r.error());
  if (auto r = maybe_roll(batch.size()); !r) return refuse(r.error());

  batch_header h = view->header();
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
  pending_.push_back(p);
  start_write(p);
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
  // The old segment's bytes are fdatasync'd by the group sync of its pending appends (or the
  // flush timer); here only its indexes are sealed and the new file's name made durable.
  if (auto r = active().seal(); !r) return r;
  auto seg = segment::create(dir_, next_offset_, seg_opts_, clock_.now_ms());
  if (!seg) return seg.error();
  if (auto r = sync_directory(dir_); !r) {
    (void)(*seg)->remove();
    return r;
  }
  segments_.emplace(next_offset_, std::move(*seg));
  return {};
}

void partition_log::start_write(const std::shared_ptr<pending_append>& p) {
  std::string what = fmt::format("write {} at position {} (offset {})", p->file->path().string(),
                                 p->pos, p->info.base_offset);
  io_.async_write_at(p->file->fd(), p->pos.value, p->bytes, what,
                     [this, alive = std::weak_ptr<bool>(alive_), p](result<std::size_t> r) {
                       if (alive.expired()) return;
                       on_write_done(*p, std::move(r));
                     });
}

void partition_log::on_write_done(pending_append& p, result<std::size_t> r) {
  if (p.st == pending_append::state::failed) {  // already given up on (fenced)
    advance();
    return;
  }
  if (!r) {
    p.st = pending_append::state::failed;
    if (!rollback_error_) rollback_error_ = r.error();
  } else {
    p.st = pending_append::state::written;
    note_dirty(p.file);
  }
  advance();
}

void partition_log::note_dirty(const std::shared_ptr<log_file>& f) {
  for (const auto& d : dirty_files_) {
    if (d == f) return;
  }
  dirty_files_.push_back(f);
}

std::size_t partition_log::written_prefix() const {
  std::size_t n = 0;
  while (n < pending_.size() && pending_[n]->st == pending_append::state::written) ++n;
  return n;
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
  std::size_t ready = written_prefix();
  if (config_.flush.kind == flush_policy::mode::interval) {
    acknowledge_front(ready);
  } else {
    std::size_t covered = appends_in_syncs();
    if (ready > covered && syncs_.size() < max_syncs_in_flight) start_sync(ready - covered);
  }
  if (rollback_error_ && syncs_.empty() && !writes_in_flight() && !pending_.empty() &&
      pending_.front()->st == pending_append::state::failed) {
    roll_back_failed_writes();
  }
  maybe_finish_close();
}

std::size_t partition_log::appends_in_syncs() const {
  std::size_t n = 0;
  for (const auto& s : syncs_) n += s.appends;
  return n;
}

void partition_log::start_sync(std::size_t group) {
  // Syncs every file written since the last sync began. The `group` pending appends after
  // those already covered by syncs in flight had completed their writes, so this covers them.
  std::size_t first = appends_in_syncs();
  position target = syncs_.empty() ? visible_ : syncs_.back().target;
  if (group > 0) {
    const pending_append& last = *pending_[first + group - 1];
    target = {last.info.last_offset + 1, last.segment_base, last.pos + last.bytes.size()};
  }
  const std::uint64_t id = next_sync_id_++;
  syncs_.push_back({id, group, target, false});
  auto files = std::move(dirty_files_);
  dirty_files_.clear();
  auto state = std::make_shared<sync_join>(std::max<std::size_t>(files.size(), 1));
  auto on_file_synced = [this, alive = std::weak_ptr<bool>(alive_), state, id](result<void> r) {
    if (alive.expired()) return;
    if (!r && !state->first_error) state->first_error = r.error();
    if (--state->remaining > 0) return;
    on_sync_done(id, state->first_error);
  };
  if (files.empty()) {
    boost::asio::post(ctx_, [on_file_synced] { on_file_synced(result<void>{}); });
    return;
  }
  for (const auto& f : files) {
    io_.async_datasync(f->fd(), "fdatasync " + f->path().string(),
                       [on_file_synced, f](result<void> r) { on_file_synced(std::move(r)); });
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
    sync_group g = syncs_.front();
    syncs_.pop_front();
    if (g.target.next > durable_.next) durable_ = g.target;
    acknowledge_front(g.appends);
  }
  if (!closing_ && clock_.now_ms() - last_checkpoint_ms_ >= config_.checkpoint_interval.count()) {
    if (auto r = checkpoint(); !r)
      spdlog::warn("{}: checkpoint failed: {}", dir_.string(), r.error().message());
  }
  advance();
}

void partition_log::acknowledge_front(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    std::shared_ptr<pending_append> p = std::move(pending_.front());
    pending_.pop_front();
    visible_ = {p->info.last_offset + 1, p->segment_base, p->pos + p->bytes.size()};
    complete(ctx_, p->handler, p->info);
  }
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
  next_offset_ = cut;
  rollback_error_.reset();
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
  flush_timer_.expires_after(config_.flush.interval);
  flush_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto ec) {
    if (ec || alive.expired()) return;
    on_flush_timer();
  });
}

void partition_log::on_flush_timer() {
  if (!offline_ && syncs_.empty() && !dirty_files_.empty()) start_sync(0);
  if (!closing_) schedule_flush_timer();
}

}  // namespace sluice
