#include "consumer/fetcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "consumer/offset_requests.h"
#include "consumer/record_decoding.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::consumer_detail {
namespace {

constexpr auto partition_retry_backoff = std::chrono::milliseconds(100);
constexpr auto min_backoff = std::chrono::milliseconds(50);
constexpr auto max_backoff = std::chrono::milliseconds(1000);

// A failure of the network rather than of the request: retried quietly for a while. A request
// that timed out is one: its connection was closed, as a lost one, and the retry connects again.
bool is_network_failure(const error& e) {
  if (e.code == client_errc::connection_lost || e.code == client_errc::timed_out) return true;
  return e.code.category() != client_category() && e.code.category() != wire::wire_category();
}

std::chrono::milliseconds backoff_after(unsigned failures) {
  const auto doubled = min_backoff * (1U << std::min(failures, 5U));
  return std::min<std::chrono::milliseconds>(doubled, max_backoff);
}

}  // namespace

fetcher::fetcher(const boost::asio::any_io_executor& ex, consumer_config config,
                 std::vector<broker_address> bootstrap, std::shared_ptr<fetch_buffer> buffer)
    : ex_(ex),
      config_(std::move(config)),
      buffer_(std::move(buffer)),
      retry_timer_(ex),
      outage_timer_(ex) {
  client_connection::options opts;
  opts.client_id = config_.client_id;
  opts.request_timeout = config_.request_timeout;
  opts.receive_buffer_bytes = config_.receive_buffer_bytes;
  // An answer holds up to fetch_max_bytes plus at least one whole batch per partition.
  opts.max_response_bytes = std::max(frame_format::default_max_response_bytes,
                                     static_cast<std::uint32_t>(config_.fetch_max_bytes) * 2U);
  pool_ = std::make_shared<broker_pool>(ex_, std::move(bootstrap), std::move(opts));
}

void fetcher::send(request_builder req, client_connection::response_handler handler) {
  pool_->send(std::move(req), std::move(handler));
}

void fetcher::assign(const std::vector<topic_partition>& tps) {
  const std::set<topic_partition> wanted(tps.begin(), tps.end());
  for (auto it = states_.begin(); it != states_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    buffer_->remove_partition(it->second.view);
    it = states_.erase(it);
  }
  for (const auto& tp : wanted) {
    if (states_.contains(tp)) continue;
    partition_state& st = states_[tp];
    st.view = buffer_->add_partition(tp);
    st.generation = next_generation_++;
    if (config_.auto_offset_reset == consumer_config::offset_reset::none) {
      fail(st, -1,
           make_error(wire::ErrorCode::offset_out_of_range,
                      fmt::format("{} has no position and auto_offset_reset is none: seek first",
                                  to_string(tp))));
    }
  }
  maybe_fetch();
}

result<void> fetcher::check_assigned(const std::vector<topic_partition>& tps) const {
  for (const auto& tp : tps) {
    if (!states_.contains(tp)) {
      return make_error(client_errc::invalid_argument,
                        fmt::format("{} is not assigned to this consumer", to_string(tp)));
    }
  }
  return {};
}

void fetcher::seek(const topic_partition& tp, std::int64_t offset) {
  auto it = states_.find(tp);
  SLUICE_ASSERT(it != states_.end());
  partition_state& st = it->second;
  st.generation = next_generation_++;
  st.forget_requests();
  st.stopped = false;
  st.retry_at = {};
  st.retriable_errors.end();  // a run of errors before the seek is not this position's
  st.fetch_position = offset;
  buffer_->seek(st.view, offset);
  maybe_fetch();
}

void fetcher::close() {
  closed_ = true;
  retry_timer_.cancel();
  outage_timer_.cancel();
  pool_->close();
  states_.clear();
}

partition_state* fetcher::current(const topic_partition& tp, std::uint64_t generation) {
  auto it = states_.find(tp);
  if (it == states_.end() || it->second.generation != generation) return nullptr;
  return &it->second;
}

void fetcher::maybe_fetch() {
  if (closed_) return;
  const auto now = clock::now();
  send_resets(now);
  if (buffer_->has_room()) send_fetch(now);
  std::optional<clock::time_point> earliest;
  for (const auto& [tp, st] : states_) {
    if (st.backing_off(now) && (!earliest || st.retry_at < *earliest)) earliest = st.retry_at;
  }
  if (earliest) arm_retry_timer(*earliest);
}

void fetcher::arm_retry_timer(clock::time_point at) {
  if (retry_timer_at_ && *retry_timer_at_ <= at) return;
  retry_timer_at_ = at;
  retry_timer_.expires_at(at);  // a later wait already armed ends with operation_aborted
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    self->retry_timer_at_.reset();
    self->maybe_fetch();
  });
}

void fetcher::send_fetch(clock::time_point now) {
  std::vector<std::pair<const topic_partition*, partition_state*>> fetchable;
  for (auto& [tp, st] : states_) {
    if (st.can_fetch(now, config_.max_fetches_in_flight)) fetchable.emplace_back(&tp, &st);
  }
  if (fetchable.empty()) return;
  std::stable_sort(fetchable.begin(), fetchable.end(), [](const auto& a, const auto& b) {
    return a.second->served_at < b.second->served_at;
  });
  std::vector<fetch_target> targets;
  auto sent = std::make_shared<sent_requests>();
  for (auto [tp, st] : fetchable) {
    targets.push_back({*tp, *st->fetch_position});
    sent->emplace(*tp, sent_request{st->generation, *st->fetch_position});
    ++st->fetches_in_flight;
    st->position_pending = true;
  }
  auto self = shared_from_this();
  client_connection::header_handler on_header;
  if (config_.max_fetches_in_flight > 1) {
    on_header = [self, sent](const wire::Response& header) {
      self->on_fetch_header(*sent, header);
    };
  }
  pool_->send(
      fetch_request(targets, config_),
      [self, sent](result<response_frame> r) { self->on_fetch_answer(*sent, std::move(r)); },
      config_.fetch_max_wait, std::move(on_header));
}

void fetcher::on_fetch_header(sent_requests& sent, const wire::Response& header) {
  const auto* body = header.body_as_FetchResponse();
  if (closed_ || body == nullptr || body->topics() == nullptr) return;
  bool moved = false;
  for (const auto* t : *body->topics()) {
    if (t->name() == nullptr || t->partitions() == nullptr) continue;
    for (const auto* p : *t->partitions()) {
      auto it = sent.find({t->name()->str(), p->partition()});
      if (it == sent.end() || it->second.moved_position) continue;
      auto* st = current(it->first, it->second.generation);
      const bool has_records = p->records() != nullptr && p->records()->length() > 0;
      // The next offset is past the fetch offset whenever records came (the first batch holds
      // it); anything else is not a position to continue from.
      if (st == nullptr || p->error() != wire::ErrorCode::none || !has_records ||
          p->next_fetch_offset() <= it->second.from) {
        continue;
      }
      it->second.moved_position = true;
      it->second.claimed_next = p->next_fetch_offset();
      st->fetch_position = p->next_fetch_offset();
      st->position_pending = false;
      moved = true;
    }
  }
  if (moved) maybe_fetch();
}

void fetcher::on_fetch_answer(const sent_requests& sent, result<response_frame> r) {
  if (closed_) return;
  if (!r) return on_request_failure(sent, r.error());
  auto partitions = read_fetch_response(*r);
  if (!partitions) return on_request_failure(sent, partitions.error());
  note_success();
  for (const auto& [tp, asked] : sent) {
    auto* st = current(tp, asked.generation);
    if (st == nullptr) continue;
    --st->fetches_in_flight;
    if (!asked.moved_position) st->position_pending = false;
  }
  std::vector<decode_job> jobs;
  for (const auto& p : *partitions) {
    auto it = sent.find(p.tp);
    auto* st = it != sent.end() ? current(p.tp, it->second.generation) : nullptr;
    if (st != nullptr) on_fetched_partition(*st, it->second, p, r->payload_owner(), jobs);
  }
  maybe_fetch();  // the next fetches go out while this answer is decoded
  for (const auto& job : jobs) decode(job);
}

void fetcher::on_fetched_partition(partition_state& st, const sent_request& asked,
                                   const fetched_partition& p,
                                   const std::shared_ptr<const void>& bytes_owner,
                                   std::vector<decode_job>& jobs) {
  if (p.high_watermark >= 0) buffer_->set_high_watermark(st.view, p.high_watermark);
  if (p.error != wire::ErrorCode::none) return on_partition_error(st, asked.from, p);
  st.retriable_errors.end();
  if (p.records.empty()) return;
  st.served_at = ++partitions_served_;
  const std::int64_t next = next_fetch_offset(p.records, asked.from);
  if (!asked.moved_position) {
    st.fetch_position = next;
  } else if (next != asked.claimed_next) {
    refetch_from(st, asked, next);  // before the job takes the partition's generation
  }
  // Counted until decoded (then the records' footprint replaces it), so the fetch sent before
  // decoding sees how full the buffer is about to be.
  buffer_->reserve(p.records.size());
  jobs.push_back({&st, st.generation, asked.from, p.records, bytes_owner});
}

void fetcher::decode(const decode_job& job) {
  partition_state& st = *job.state;
  if (st.generation != job.generation) {  // failed by an earlier job of the same answer
    buffer_->release(job.bytes.size());
    return maybe_fetch();  // the room it held may be what a fetch waits for
  }
  // Chunks of at most max_poll_records records: poll() takes such a chunk's records as one
  // vector instead of moving them one by one. They are pushed together, which wakes a waiting
  // poll() once per answer.
  std::vector<fetched_chunk> chunks;
  std::size_t decoded_bytes = 0;
  for (const byte_span piece : split_at_batches(job.bytes, config_.max_poll_records)) {
    fetched_chunk& chunk = chunks.emplace_back();
    chunk.partition = st.view;
    const auto outcome = decode_fetched_batches(piece, job.bytes_owner, st.view->tp, job.from,
                                                config_.check_crcs, chunk.records);
    chunk.next_position = outcome.next_offset;
    for (const auto& r : chunk.records) chunk.bytes += record_footprint(r);
    if (outcome.failure) {
      auto failed = std::move(chunk);
      chunks.pop_back();
      buffer_->push(std::move(chunks), decoded_bytes);
      return fail(st, outcome.next_offset, *outcome.failure, std::move(failed),
                  job.bytes.size() - decoded_bytes);
    }
    decoded_bytes += piece.size();
  }
  buffer_->push(std::move(chunks), decoded_bytes);
}

void fetcher::on_partition_error(partition_state& st, std::int64_t at, const fetched_partition& p) {
  const auto code = wire::make_error_code(p.error);
  error e{code, fmt::format("fetch {} at offset {}: {}", to_string(st.view->tp), at,
                            p.error_message.empty() ? code.message() : p.error_message)};
  if (p.error == wire::ErrorCode::offset_out_of_range) {
    if (config_.auto_offset_reset != consumer_config::offset_reset::none) {
      st.fetch_position.reset();  // maybe_fetch() sends the reset
      st.generation = next_generation_++;
      st.forget_requests();
      return;
    }
    // The broker's message names the readable range; brokers that send the figures as fields
    // too may leave them unknown (-1), which is no help to print.
    const std::string figures =
        p.log_start_offset >= 0 && p.high_watermark >= 0
            ? fmt::format("log start {}, high watermark {}; ", p.log_start_offset, p.high_watermark)
            : std::string();
    e.detail += fmt::format(" ({}auto_offset_reset is none: seek to continue)", figures);
    return fail(st, at, std::move(e));
  }
  if (wire::is_retriable(p.error)) return retry_partition(st, e);
  fail(st, at, std::move(e));
}

// The partition stays fetchable; only the caller is told, through a failure chunk of the
// partition that does not stop it (a seek drops it with the partition's other chunks).
void fetcher::retry_partition(partition_state& st, const error& e) {
  const auto now = clock::now();
  st.retry_at = now + partition_retry_backoff;
  if (!st.retriable_errors.note(now, config_.request_timeout)) return;
  st.retriable_errors.reported(now);
  const auto lasted =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - *st.retriable_errors.since);
  fetched_chunk chunk;
  chunk.partition = st.view;
  chunk.failure = error{e.code, fmt::format("{} (failing for {} ms; the consumer keeps retrying)",
                                            e.detail, lasted.count())};
  buffer_->push(std::move(chunk));
}

void fetcher::send_resets(clock::time_point now) {
  std::vector<topic_partition> tps;
  auto sent = std::make_shared<sent_requests>();
  for (auto& [tp, st] : states_) {
    if (!st.needs_reset(now)) continue;
    tps.push_back(tp);
    sent->emplace(tp, sent_request{st.generation});
    st.resetting = true;
  }
  if (tps.empty()) return;
  const auto spec = config_.auto_offset_reset == consumer_config::offset_reset::earliest
                        ? earliest_spec
                        : latest_spec;
  pool_->send(list_offsets_request(tps, spec),
              [self = shared_from_this(), sent, tps](result<response_frame> r) {
                self->on_reset_answer(*sent, tps, std::move(r));
              });
}

void fetcher::on_reset_answer(const sent_requests& sent, const std::vector<topic_partition>& asked,
                              result<response_frame> r) {
  if (closed_) return;
  if (!r) return on_request_failure(sent, r.error());
  auto offsets = read_list_offsets(*r, asked);
  if (!offsets) return on_request_failure(sent, offsets.error());
  note_success();
  for (const auto& [tp, request] : sent) {
    auto* st = current(tp, request.generation);
    if (st == nullptr) continue;
    st->resetting = false;
    const auto& o = offsets->at(tp);
    if (!o && o.error().code.category() == wire::wire_category() &&
        wire::is_retriable(static_cast<wire::ErrorCode>(o.error().code.value()))) {
      retry_partition(*st, error{o.error().code, fmt::format("resetting the position of {}: {}",
                                                             to_string(tp), o.error().detail)});
    } else if (!o || *o < 0) {
      fail(*st, -1,
           o ? make_error(client_errc::protocol_violation,
                          fmt::format("ListOffsets answered offset {} for {}", *o, to_string(tp)))
             : error{o.error().code, fmt::format("resetting the position of {}: {}", to_string(tp),
                                                 o.error().detail)});
    } else {
      st->retriable_errors.end();
      st->fetch_position = *o;
      buffer_->reset(st->view, *o);
    }
  }
  maybe_fetch();
}

void fetcher::on_request_failure(const sent_requests& sent, const error& e) {
  if (closed_ || e.code == client_errc::client_closed) return;
  const auto retry_at = clock::now() + backoff_after(consecutive_failures_++);
  for (const auto& [tp, asked] : sent) {
    auto* st = current(tp, asked.generation);
    if (st == nullptr) continue;
    if (asked.from >= 0) {
      forget_fetch(*st, asked);
    } else {
      st->resetting = false;
    }
    st->retry_at = retry_at;
  }
  report(e);
  maybe_fetch();
}

void fetcher::forget_fetch(partition_state& st, const sent_request& asked) {
  if (!asked.moved_position) {
    --st.fetches_in_flight;
    st.position_pending = false;  // it stays at asked.from
    return;
  }
  // Its records never came, so the position goes back to them, and an answer to a later fetch
  // (from the position it had moved to) must not be taken.
  st.generation = next_generation_++;
  st.forget_requests();
  st.fetch_position = asked.from;
}

void fetcher::refetch_from(partition_state& st, const sent_request& asked, std::int64_t next) {
  // Taking the answer of the fetch sent from the claimed offset would skip records or deliver
  // some twice. This answer's records are good: they are decoded under the new generation.
  st.generation = next_generation_++;
  st.forget_requests();
  st.fetch_position = next;
  report(
      make_error(client_errc::protocol_violation,
                 fmt::format("fetch {} at offset {}: the broker said the partition continues "
                             "at offset {}, but its records end at {}; fetching from {}",
                             to_string(st.view->tp), asked.from, asked.claimed_next, next, next)));
}

void fetcher::report(const error& e) {
  const bool lasted = request_failures_.note(clock::now(), config_.request_timeout);
  if (is_network_failure(e) && !lasted) return report_when_due(e);
  push_report(e);
}

void fetcher::report_when_due(const error& e) {
  unreported_failure_ = e;
  outage_timer_.expires_at(request_failures_.next_report_at(config_.request_timeout));
  outage_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on_outage_timer();
  });
}

void fetcher::on_outage_timer() {
  if (closed_ || !unreported_failure_) return;  // recovered, or reported with a later failure
  push_report(*unreported_failure_);
}

void fetcher::push_report(const error& e) {
  // e may be unreported_failure_ itself (on_outage_timer): read before it is reset.
  fetched_chunk chunk;
  chunk.failure = error{e.code, fmt::format("{} (the consumer keeps retrying)", e.detail)};
  request_failures_.reported(clock::now());
  unreported_failure_.reset();
  buffer_->push(std::move(chunk));
}

void fetcher::note_success() {
  consecutive_failures_ = 0;
  request_failures_.end();
  unreported_failure_.reset();
}

void fetcher::fail(partition_state& st, std::int64_t at, error e, fetched_chunk chunk,
                   std::size_t reserved) {
  st.stopped = true;
  st.forget_requests();
  st.retriable_errors.end();
  st.generation = next_generation_++;
  st.fetch_position = at >= 0 ? std::optional<std::int64_t>(at) : std::nullopt;
  chunk.partition = st.view;
  chunk.next_position = at;
  chunk.failure = std::move(e);
  buffer_->push(std::move(chunk), reserved);
}

}  // namespace sluice::consumer_detail
