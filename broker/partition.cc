#include "broker/partition.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "broker/errc.h"
#include "broker/producer_snapshot.h"
#include "protocol/record_batch.h"
#include "segment/clock.h"
#include "segment/errc.h"

namespace sluice {
namespace {

std::chrono::milliseconds now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
}

// What only a broker may write, and producer fields no producer sends. A control batch would
// be acknowledged and then skipped by every consumer; a negative sequence or epoch would enter
// the producer's state (Kafka refuses both with INVALID_RECORD; the native protocol answers
// invalid_request).
result<void> check_producer_fields(const batch_header& h) {
  auto refuse = [](std::string why) {
    return make_error(broker_errc::invalid_request, std::move(why));
  };
  if (h.is_control()) {
    return refuse("a control batch is written by the broker, not by a producer");
  }
  if (h.is_transactional()) {
    return refuse("transactional batches are not supported (no transaction coordinator)");
  }
  if (h.producer_id < 0) return {};
  if (h.producer_epoch < 0 || h.base_sequence < 0) {
    return refuse(fmt::format(
        "idempotent batch of producer {} has epoch {} and base sequence {}; both must be >= 0",
        h.producer_id, h.producer_epoch, h.base_sequence));
  }
  return {};
}

}  // namespace

std::string partition_id::dir_name() const {
  return fmt::format("{}-{}", topic, partition);
}

partition::partition(partition_id id, std::unique_ptr<partition_log> log)
    : id_(std::move(id)), log_(std::move(log)) {
  log_->on_cut_back([this](offset cut) { producers_.forget_all_unwritten(cut); });
}

partition::~partition() = default;

result<std::unique_ptr<partition>> partition::open(partition_id id, std::filesystem::path dir,
                                                   const log_config& config, io::backend& io,
                                                   boost::asio::io_context& ctx) {
  auto snapshot = load_producer_snapshot(id, dir);
  // Segments a crash left below the log start (between retention's checkpoint and its
  // deletions) go into the snapshot before open deletes them, as retention would have done.
  std::optional<offset> leftovers_end;
  auto fold_leftover = [&](const batch_header& h) {
    if (h.base_offset >= snapshot.until) snapshot.table.restore(h);
    leftovers_end = h.next_offset();
  };
  auto log = partition_log::open(std::move(dir), config, io, ctx, real_clock(), fold_leftover);
  if (!log) return log.error();
  std::unique_ptr<partition> p(new partition(std::move(id), std::move(*log)));
  p->adopt_producer_snapshot(std::move(snapshot), leftovers_end);
  if (auto r = p->restore_producer_state(); !r) return r.error();
  return p;
}

producer_snapshot partition::load_producer_snapshot(const partition_id& id,
                                                    const std::filesystem::path& dir) {
  auto snap = read_producer_snapshot(dir);
  if (!snap) {
    // Without it, retries of batches retention deleted may be stored again; the partition
    // itself is whole, so it still opens.
    spdlog::warn("{}: {}; producer state is rebuilt from the log alone", id.dir_name(),
                 snap.error().message());
    return {};
  }
  return *snap ? std::move(**snap) : producer_snapshot{};
}

void partition::adopt_producer_snapshot(producer_snapshot snapshot,
                                        std::optional<offset> leftovers_end) {
  if (snapshot.until > log_->log_end_offset()) {
    spdlog::warn("{}: the producer snapshot ends at offset {}, past the log's end {}; ignored",
                 id_.dir_name(), snapshot.until, log_->log_end_offset());
    return;
  }
  retained_producers_ = std::move(snapshot.table);
  retained_until_ = snapshot.until;
  if (leftovers_end && *leftovers_end > retained_until_) {
    retained_until_ = *leftovers_end;
    save_producer_snapshot(retained_producers_, retained_until_);
  }
}

offset partition::producer_scan_start() const {
  // The first segment is below the log start only while retention's hook runs.
  return std::max(retained_until_, log_->segment_bases().front());
}

result<void> partition::restore_producer_state() {
  // Opening reads only the headers of the last two segments, which keeps it cheap however long
  // the log is. They need not hold the last batches of every producer that may still retry (a
  // producer whose acknowledgements were lost in a crash while others filled two segments):
  // the first batch that may be such a retry rebuilds the state from the whole partition
  // (complete_producer_state), once.
  auto bases = log_->segment_bases();
  const offset from = bases.size() >= 2 ? bases[bases.size() - 2]
                      : bases.empty()   ? log_->log_end_offset()
                                        : bases.back();
  if (from <= producer_scan_start()) {
    auto whole = whole_producer_state();
    if (!whole) return whole.error();
    producers_ = std::move(*whole);
    producer_state_complete_ = true;
    return {};
  }
  return log_->scan_batch_headers(from, [this](const batch_header& h) { producers_.restore(h); });
}

result<producer_state_table> partition::whole_producer_state() const {
  producer_state_table whole = retained_producers_;
  auto r = log_->scan_batch_headers(producer_scan_start(),
                                    [&whole](const batch_header& h) { whole.restore(h); });
  if (!r) return r.error();
  return whole;
}

void partition::complete_producer_state() {
  auto whole = whole_producer_state();
  if (!whole) {
    spdlog::warn("{}: rebuilding producer state from the whole log: {}", id_.dir_name(),
                 whole.error().message());
    return;  // keeps the partial state; tried again by the next such batch
  }
  whole->adopt_in_flight(producers_);
  producers_ = std::move(*whole);
  producer_state_complete_ = true;
}

result<std::size_t> partition::enforce_retention() {
  producers_.expire_older_than(producer_expiry());
  return log_->enforce_retention([this](offset new_start) { retain_producer_state(new_start); });
}

std::int64_t partition::producer_expiry() {
  return (now_ms() - producer_id_expiration).count();
}

void partition::retain_producer_state(offset new_log_start) {
  const offset from = producer_scan_start();
  if (new_log_start <= from) return;  // a crash came between a snapshot and its deletion
  producer_state_table retained;
  if (producer_state_complete_) {
    // The table holds every stored batch's producer; what it remembers below the new log start
    // is all a rebuild from there needs (producer_state_table::remembered), with the batches
    // there whose acknowledgements are still queued. No reading.
    for (const auto& p : producers_.remembered_acknowledged(new_log_start)) retained.restore(p);
  } else {
    retained = retained_producers_;
    auto r = log_->scan_batch_headers(
        from, [&retained](const batch_header& h) { retained.restore(h); }, new_log_start);
    if (!r) {
      // Retention goes on (it may be what frees the disk); a retry of a batch in these
      // segments after a restart may then be stored twice.
      spdlog::warn("{}: producer state of the segments retention deletes: {}", id_.dir_name(),
                   r.error().message());
      return;
    }
    // Not by the records' timestamps alone: a producer storing old records now is not idle.
    retained.take_dates_from(producers_);
    retained.expire_older_than(producer_expiry());
  }
  retained_producers_ = std::move(retained);
  retained_until_ = new_log_start;
  save_producer_snapshot(retained_producers_, new_log_start);
}

void partition::save_producer_snapshot(const producer_state_table& table, offset until) const {
  if (auto w = write_producer_snapshot(log_->dir(), table, until); !w) {
    // Kept in memory, so the next retention writes it again; lost if the broker stops first.
    spdlog::warn("{}: writing the producer snapshot: {}", id_.dir_name(), w.error().message());
  }
}

std::optional<offset> partition::find_forgotten_batch(const producer_batch_ids& ids,
                                                      offset before) const {
  // A retry lands a few of its producer's batches behind the remembered ones, but other
  // producers' batches between may fill many small segments. Walking back stops at the first
  // segment holding an older batch of the producer (what was sought would come after it) and
  // is bounded so that a client sending stale sequence numbers costs at most the budget's
  // headers per request, not a scan of the whole log.
  const auto bases = log_->segment_bases();
  auto holding = std::upper_bound(bases.begin(), bases.end(), before);
  std::size_t scanned_bytes = 0;
  for (int segments = 0; holding != bases.begin(); ++segments) {
    if (segments >= 2 && scanned_bytes >= forgotten_search_bytes) break;
    const auto first = std::prev(holding);
    const offset until = holding == bases.end() ? before + 1 : std::min(*holding, before + 1);
    std::optional<offset> found;
    bool older_seen = false;
    auto r = log_->scan_batch_headers(
        *first,
        [&](const batch_header& h) {
          scanned_bytes += h.size_bytes();
          const auto seen = producer_batch_ids::of(h);
          if (h.base_offset >= before || seen.producer_id != ids.producer_id ||
              seen.epoch != ids.epoch) {
            return;
          }
          if (seen == ids && !found) found = h.base_offset;
          if (seen.last_sequence < ids.first_sequence) older_seen = true;
        },
        until);
    if (!r) {
      spdlog::warn("{}: looking for producer {} sequence {} in the log: {}", id_.dir_name(),
                   ids.producer_id, ids.first_sequence, r.error().message());
      return std::nullopt;
    }
    if (found || older_seen) return found;
    holding = first;
  }
  return std::nullopt;
}

void partition::produce(held_bytes batch, produce_handler done) {
  auto view = record_batch_view::parse(batch);
  if (!view) {
    done(view.error());
    return;
  }
  // Refuse a batch the log would refuse (oversized, bad CRC or records, ...) before it counts
  // as in flight: otherwise the producer's next batch, pipelined behind it, would be accepted
  // and leave a gap in its sequence.
  if (auto appendable = log_->check_batch(batch); !appendable) {
    done(appendable.error());
    return;
  }
  if (auto allowed = check_producer_fields(view->header()); !allowed) {
    done(allowed.error());
    return;
  }
  const auto ids = producer_batch_ids::of(view->header());
  if (!producer_state_complete_ && producers_.may_predate_restored_state(ids)) {
    complete_producer_state();
  }
  if (ids.idempotent()) producers_.forget_unwritten(ids.producer_id, log_->log_end_offset());
  auto verdict = producers_.check(ids);
  if (!verdict && verdict.error().code == broker_errc::out_of_order_sequence) {
    if (auto before = producers_.older_than_remembered(ids)) {
      if (auto base = find_forgotten_batch(ids, *before)) {
        done(produce_outcome{*base, log_->log_start_offset(), true});
        return;
      }
    }
  }
  if (!verdict) {
    done(verdict.error());
    return;
  }
  using kind = producer_state_table::verdict::kind;
  switch (verdict->what) {
    case kind::duplicate_stored:
      done(produce_outcome{verdict->stored_base, log_->log_start_offset(), true});
      return;
    case kind::duplicate_in_flight:
      duplicates_.push_back({ids, std::move(done)});
      return;
    case kind::append:
      append_checked(std::move(batch), ids, std::move(done));
      return;
  }
}

void partition::append_checked(held_bytes batch, const producer_batch_ids& ids,
                               produce_handler done) {
  // The offset append() gives it.
  const auto attempt = producers_.on_submitted(ids, log_->log_end_offset());
  log_->append_checked(std::move(batch),
                       [this, ids, attempt, done = std::move(done)](result<append_info> r) {
                         finish_append(ids, attempt, r, done);
                       });
}

void partition::finish_append(const producer_batch_ids& ids, std::uint64_t attempt,
                              const result<append_info>& r, const produce_handler& done) {
  if (r) {
    // Aged by the broker's clock, not the records' timestamps: a producer re-ingesting old
    // records is not idle.
    producers_.on_stored(ids, r->base_offset, now_ms().count());
    wake_waiters();
  } else {
    producers_.on_failed(ids, attempt);
  }
  auto outcome = [&](bool duplicate) -> result<produce_outcome> {
    if (!r) return r.error();
    return produce_outcome{r->base_offset, log_->log_start_offset(), duplicate};
  };
  if (ids.idempotent() && !duplicates_.empty()) {
    std::vector<in_flight_duplicate> waiting;
    for (auto& d : duplicates_) {
      if (d.ids == ids) {
        d.done(outcome(true));
      } else {
        waiting.push_back(std::move(d));
      }
    }
    duplicates_ = std::move(waiting);
  }
  done(outcome(false));
}

read_outcome partition::read(offset from, std::size_t max_bytes) const {
  return read_outcome{log_->read(from, max_bytes), log_->visible_end(), log_->log_start_offset()};
}

void partition::add_waiter(const std::shared_ptr<data_waiter>& w, offset from) {
  if (log_->visible_end() > from) {
    w->wake(*this);
    return;
  }
  std::erase_if(waiters_, [](const auto& weak) {
    auto s = weak.lock();
    return !s || s->fired();
  });
  waiters_.push_back(w);
}

void partition::wake_waiters() {
  if (waiters_.empty()) return;
  auto waiting = std::move(waiters_);
  waiters_.clear();
  for (auto& weak : waiting) {
    if (auto w = weak.lock()) w->wake(*this);
  }
}

result<partition::listed_offset> partition::offset_for(std::int64_t spec) const {
  const offset end = log_->visible_end();
  if (spec == -2) return listed_offset{log_->log_start_offset(), end};
  if (spec == -1) return listed_offset{end, end};
  auto found = log_->offset_for_timestamp(spec);
  if (!found) return found.error();
  return listed_offset{*found, end};
}

partition_status partition::status() const {
  partition_status s;
  s.log_start_offset = log_->log_start_offset();
  s.high_watermark = log_->visible_end();
  s.log_end_offset = log_->log_end_offset();
  s.size_bytes = log_->size_bytes();
  s.segments = log_->segment_count();
  if (log_->offline()) {
    s.offline = error{make_error_code(log_errc::log_offline),
                      fmt::format("partition {} is offline after an I/O error", id_.dir_name())};
  }
  return s;
}

void partition::close(std::function<void(result<void>)> done) {
  // No data will come from here again: waiting fetches answer now (unknown_topic after a
  // deletion, what they read already when the broker stops), not at their max_wait.
  for (auto& weak : std::exchange(waiters_, {})) {
    if (auto w = weak.lock()) w->gone();
  }
  // Retries waiting on a batch in flight keep waiting: the log's close lets that append
  // finish, and its outcome is theirs (stored before a topic deletion, say, is stored).
  log_->close([this, done = std::move(done)](result<void> r) {
    for (auto& d : std::exchange(duplicates_, {})) {
      d.done(make_error(log_errc::log_closed, fmt::format("{} is closing", id_.dir_name())));
    }
    // After a clean close the whole state is saved, so the next open needs no log to rebuild
    // it (restore_producer_state finds the snapshot ending where the log ends).
    if (r && producer_state_complete_) {
      producers_.expire_older_than(producer_expiry());
      if (!producers_.remembered().empty()) {
        save_producer_snapshot(producers_, log_->log_end_offset());
      }
    }
    done(r);
  });
}

}  // namespace sluice
