#include "producer/sender.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "producer/delivery_errors.h"
#include "producer/produce_request.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::producer_internal {

namespace asio = boost::asio;

sender::sender(asio::any_io_executor ex, std::shared_ptr<broker_pool> pool,
               record_accumulator& accumulator, topic_metadata& metadata,
               const producer_config& config, producer_counters& counters)
    : ex_(std::move(ex)),
      pool_(std::move(pool)),
      accumulator_(accumulator),
      metadata_(metadata),
      config_(config),
      counters_(counters),
      may_send_([this](const std::string& t, std::int32_t p) { return may_send(t, p); }),
      timer_(ex_) {
  pool_->on_connected([this](const client_connection& c) { learn_request_limit(c); });
}

sender::~sender() {
  pool_->on_connected(nullptr);  // the pool may outlive this sender (others hold it)
}

void sender::wake() {
  if (wake_posted_.exchange(true)) return;
  asio::post(ex_, [this] {
    wake_posted_.store(false);
    run();
  });
}

void sender::run() {
  if (closed_) return;
  const auto now = clock::now();
  expire(now);
  if (fatal_) {
    fail_all_waiting(*fatal_);
    return;
  }
  const bool can_send = !config_.idempotence || sequences_.has_producer();
  if (can_send) {
    settle_splits();
    reset_partitions(now);
    send_batches(now);
  } else {
    request_producer_id();
  }
  arm_timer(now, can_send);
}

// ---- delivery timeout -------------------------------------------------------------------------

void sender::expire(clock::time_point now) {
  const auto cutoff = now - config_.delivery_timeout;
  for (auto& b : accumulator_.expire(cutoff)) finish(b, expired_error(*b));
  if (awaiting_total_ == 0) return;
  batch_list expired;
  for (auto& [topic, states] : partitions_) {
    for (auto& s : states) {
      if (s.awaiting == 0) continue;
      for (const auto& b : s.queue) {
        if (b->current_state() == producer_batch::state::awaiting_retry && b->created() <= cutoff) {
          expired.push_back(b);
        }
      }
    }
  }
  for (auto& b : expired) finish(b, expired_error(*b));
}

error sender::expired_error(const producer_batch& b) const {
  const auto& last = b.last_error ? b.last_error : last_error_;
  return make_error(
      client_errc::timed_out,
      fmt::format("{} records for {}-{} not acknowledged within delivery_timeout ({} ms) after "
                  "{} attempts{}{}",
                  b.record_count(), b.tp().topic, b.tp().partition,
                  config_.delivery_timeout.count(), b.attempts,
                  b.attempts > 0 ? "; they may or may not have been stored" : "",
                  last ? "; last error: " + last->message() : ""));
}

// ---- partition resets (idempotence) -----------------------------------------------------------

void sender::reset_partitions(clock::time_point now) {
  if (resets_pending_ == 0) return;
  bool need_new_producer_id = false;
  for (auto& [topic, states] : partitions_) {
    for (std::size_t p = 0; p < states.size(); ++p) {
      auto& s = states[p];
      if (!s.reset_needed || s.in_flight > 0) continue;
      const topic_partition tp{topic, static_cast<std::int32_t>(p)};
      if (sequences_.uses_current_producer(tp)) {
        need_new_producer_id = true;
        continue;
      }
      sequences_.reset(tp);
      for (const auto& b : s.queue) {
        SLUICE_ASSERT(b->current_state() == producer_batch::state::awaiting_retry);
        b->restamp(sequences_.assign(tp, b->record_count()));
        b->retry_at = now;
      }
      s.reset_needed = false;
      s.confirmed = false;
      --resets_pending_;
    }
  }
  if (need_new_producer_id) request_producer_id();
}

void sender::request_producer_id() {
  if (producer_id_requested_ || clock::now() < producer_id_retry_at_) return;
  producer_id_requested_ = true;
  request_builder req;
  req.set_body(wire::CreateInitProducerIdRequest(req.fbb()));
  pool_->send(std::move(req), [this](result<response_frame> r) { on_producer_id(std::move(r)); });
}

void sender::on_producer_id(result<response_frame> r) {
  producer_id_requested_ = false;
  if (closed_) return;
  bool retry = !r && is_retriable(r.error());
  if (r) {
    const auto* body = r->body<wire::InitProducerIdResponse>();
    if (body == nullptr || body->producer_id() < 0) {
      r = make_error(client_errc::protocol_violation,
                     "InitProducerId answered without a producer id");
    } else if (sequences_.is_current(body->producer_id(), body->producer_epoch())) {
      // A partition reset needs an id (or epoch) the broker has no sequences for. Only the
      // partitions being reset wait (and expire); the others carry on with the current id.
      r = make_error(client_errc::protocol_violation,
                     fmt::format("InitProducerId answered with producer id {} epoch {} again",
                                 body->producer_id(), body->producer_epoch()));
      retry = true;
    } else {
      sequences_.set_producer(body->producer_id(), body->producer_epoch());
      run();
      return;
    }
  }
  last_error_ = r.error();
  if (retry) {
    producer_id_retry_at_ = clock::now() + config_.retry_backoff;
  } else {
    fatal_ = error{r.error().code, "InitProducerId failed: " + r.error().detail};
  }
  run();
}

// ---- sending ----------------------------------------------------------------------------------

void sender::send_batches(clock::time_point now) {
  while (requests_in_flight_ < config_.max_in_flight) {
    auto batches = next_request(now);
    if (batches.empty()) return;
    send_request(std::move(batches));
  }
}

sender::batch_list sender::next_request(clock::time_point now) {
  const auto max_bytes = request_payload_limit();
  auto batches = due_retries(now, max_bytes);
  std::size_t bytes = 0;
  for (const auto& b : batches) bytes += b->bytes()->size();
  if (bytes < max_bytes) {
    auto fresh = drain_new(now, max_bytes - bytes);
    batches.insert(batches.end(), fresh.begin(), fresh.end());
  }
  keep_within_request_limit(batches, now);
  return batches;
}

std::size_t sender::request_payload_limit() const {
  if (!broker_request_limit_) return config_.max_request_size;
  return std::min(config_.max_request_size, *broker_request_limit_);
}

sender::batch_list sender::due_retries(clock::time_point now, std::size_t max_bytes) {
  batch_list out;
  if (awaiting_total_ == 0) return out;
  std::size_t bytes = 0;
  for (auto& [topic, states] : partitions_) {
    for (auto& s : states) {
      if (s.awaiting == 0 || s.reset_needed || s.queue.empty()) continue;
      const auto& head = s.queue.front();
      if (head->current_state() != producer_batch::state::awaiting_retry || head->retry_at > now ||
          head->unsettled) {
        continue;
      }
      if (!out.empty() && bytes + head->bytes()->size() > max_bytes) return out;
      bytes += head->bytes()->size();
      out.push_back(head);
    }
  }
  return out;
}

sender::batch_list sender::drain_new(clock::time_point now, std::size_t max_bytes) {
  auto batches = accumulator_.drain(now, may_send_, max_bytes);
  for (const auto& b : batches) {
    std::optional<producer_stamp> stamp;
    if (config_.idempotence) stamp = sequences_.assign(b->tp(), b->record_count());
    b->seal(stamp);
    auto& s = state_of(b->tp());
    b->window_index = s.sealed++;
    s.queue.push_back(b);
  }
  return batches;
}

void sender::send_request(batch_list batches) {
  std::vector<bool> may_have_been_stored;  // before this attempt, should it not go
  may_have_been_stored.reserve(batches.size());
  for (const auto& b : batches) {
    may_have_been_stored.push_back(b->may_be_stored);
    enter_state(state_of(b->tp()), *b, producer_batch::state::in_flight);
    b->may_be_stored = true;  // until an answer proves otherwise
    if (++b->attempts > 1) counters_.retries.fetch_add(1, std::memory_order_relaxed);
  }
  ++requests_in_flight_;
  auto shared = std::make_shared<const batch_list>(std::move(batches));
  pool_->async_connection([this, shared, before = std::move(may_have_been_stored),
                           planned_within =
                               broker_request_limit_](result<broker_pool::connection_ptr> c) {
    if (!c) {
      if (config_.acks == 0) return on_written(*shared, c.error());
      return on_answer(*shared, c.error());
    }
    // Planned before this connection told another request limit: planned again, whether it
    // fits or not, so that no later request of the same partitions overtakes one that does not.
    if (broker_request_limit_ != planned_within) return unsend(*shared, before);
    if (broker_request_limit_) {
      for (const auto& b : *shared) b->sent_within_known_limit = true;
    }
    auto req = build_produce_request(*shared, static_cast<std::int8_t>(config_.acks),
                                     config_.request_timeout);
    if (config_.acks != 0) {
      (*c)->send(std::move(req),
                 [this, shared](result<response_frame> r) { on_answer(*shared, std::move(r)); });
      return;
    }
    (*c)->send_oneway(std::move(req), [this, shared](result<void> w) { on_written(*shared, w); });
  });
}

void sender::unsend(const batch_list& batches, const std::vector<bool>& may_have_been_stored) {
  --requests_in_flight_;
  const auto now = clock::now();
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const auto& b = batches[i];
    if (b->done()) continue;
    b->may_be_stored = may_have_been_stored[i];
    if (b->attempts-- > 1) counters_.retries.fetch_sub(1, std::memory_order_relaxed);
    retry_later(state_of(b->tp()), b, now);  // next_request() fits it to the limit
  }
  // Not run() here: other requests planned under the old limit may be waiting for the same
  // connection, and a batch planned now must not go before theirs are taken back too.
  wake();
}

// ---- answers ----------------------------------------------------------------------------------

void sender::on_answer(const batch_list& batches, result<response_frame> r) {
  --requests_in_flight_;
  if (!r) {
    learn_request_limit(r.error());
    for (const auto& b : batches) on_failure(b, r.error());
  } else {
    auto outcomes = match_produce_response(*r, batches);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      if (batches[i]->done()) continue;
      if (outcomes[i]) {
        finish(batches[i], outcomes[i]->base_offset);
      } else {
        on_failure(batches[i], outcomes[i].error());
      }
    }
  }
  run();
}

// acks=0: a batch is done once its request is written to the socket.
void sender::on_written(const batch_list& batches, const result<void>& r) {
  --requests_in_flight_;
  for (const auto& b : batches) {
    if (b->done()) continue;
    if (r) {
      finish(b, std::int64_t{-1});
    } else {
      on_failure(b, r.error());
    }
  }
  run();
}

void sender::on_failure(const batch_ptr& b, const error& e) {
  if (b->done()) return;
  auto& s = state_of(b->tp());
  b->last_error = e;
  last_error_ = e;
  const auto now = clock::now();
  if (closed_) return finish(b, e);
  if (config_.idempotence && is_wire_error(e, wire::ErrorCode::out_of_order_sequence)) {
    // Not stored (had an earlier attempt been, this one would be a duplicate). On the head: the
    // broker has nothing of this partition from here on.
    b->may_be_stored = false;
    if (!s.reset_needed && !s.queue.empty() && s.queue.front() == b) {
      s.reset_needed = true;
      ++resets_pending_;
    }
    return retry_later(s, b, now);
  }
  if (is_retriable(e)) {
    if (!fits_request_limit(b)) return refuse_too_large_for_broker(s, b, now);
    if (now - b->created() >= config_.delivery_timeout) return finish(b, expired_error(*b));
    return retry_later(s, b, now + config_.retry_backoff);
  }
  // Refused for good. Before it was written, or its sequence numbers may still be in the log.
  if (proves_not_stored(e)) b->may_be_stored = false;
  if (is_wire_error(e, wire::ErrorCode::message_too_large) && b->record_count() > 1 &&
      now - b->created() < config_.delivery_timeout) {
    return split(s, b, e, now);
  }
  if (is_wire_error(e, wire::ErrorCode::unknown_topic) ||
      is_wire_error(e, wire::ErrorCode::unknown_partition)) {
    metadata_.invalidate(b->tp().topic);
  }
  if (b->stamp() && !b->may_be_stored) take_back_sequences(s, b);
  finish(b, e);
}

// ---- the broker's request size limit ----------------------------------------------------------

void sender::learn_request_limit(const error& e) {
  if (auto limit = refused_frame_limit(e)) broker_request_limit_ = *limit;
}

// Replaced, not kept at the lowest: a broker restarted with another --max-request-bytes says so.
void sender::learn_request_limit(const client_connection& c) {
  if (auto limit = c.broker_request_limit()) broker_request_limit_ = *limit;
}

bool sender::fits_request_limit(std::span<const batch_ptr> batches) const {
  if (!broker_request_limit_) return true;
  // Building the request to measure it is the exact answer, and costly for many batches.
  if (produce_frame_size_bound(batches, config_.client_id) <= *broker_request_limit_) return true;
  const auto frame = produce_frame_size(batches, static_cast<std::int8_t>(config_.acks),
                                        config_.request_timeout, config_.client_id);
  return frame <= *broker_request_limit_;
}

bool sender::fits_request_limit(const batch_ptr& b) const {
  return fits_request_limit(std::span<const batch_ptr>(&b, 1));
}

// The payload limit already keeps most requests within the broker's limit; the flatbuffers
// message around the batches can still take one past it.
void sender::keep_within_request_limit(batch_list& batches, clock::time_point now) {
  if (!broker_request_limit_) return;
  batch_list fitting;
  for (const auto& b : batches) {
    if (fits_request_limit(b)) {
      fitting.push_back(b);
    } else {
      refuse_too_large_for_broker(state_of(b->tp()), b, now);
    }
  }
  // Parts of a split wait to be settled, which run() did before this split.
  if (fitting.size() < batches.size()) settle_splits();
  const auto keep = longest_fitting_prefix(fitting);
  while (fitting.size() > keep) {
    retry_later(state_of(fitting.back()->tp()), fitting.back(), now);  // the next request's
    fitting.pop_back();
  }
  batches = std::move(fitting);
}

// A request's size grows with every batch added, so the prefixes that fit are the shorter ones:
// a binary search measures log2(n) of them rather than up to n.
std::size_t sender::longest_fitting_prefix(std::span<const batch_ptr> batches) const {
  if (batches.size() <= 1 || fits_request_limit(batches)) return batches.size();
  std::size_t fits = 1;                    // each batch fits alone
  std::size_t too_large = batches.size();  // all of them do not
  while (too_large - fits > 1) {
    const auto mid = fits + (too_large - fits) / 2;
    if (fits_request_limit(batches.first(mid))) {
      fits = mid;
    } else {
      too_large = mid;
    }
  }
  return fits;
}

// Sending b again would only cost the connection, and every request on it, each time. Unless
// an attempt went within a limit the broker told before (one restarted since with a lower
// limit), every request that carried b was larger still and the broker read none of them: its
// records go in smaller batches that reuse its sequences, or, a single record, it fails and its
// sequences go to the next batch. (Whether an attempt was refused cannot be told from the error
// it failed with: when the broker closes the connection while the request is still being
// written, the write fails first, with no word of the refusal.) An attempt that was read may
// have been stored, so such a batch fails whole and keeps its sequences, as one whose fate is
// unknown.
void sender::refuse_too_large_for_broker(partition_state& s, const batch_ptr& b,
                                         clock::time_point now) {
  const auto e = too_large_for_broker_error(b);
  b->last_error = e;
  last_error_ = e;
  if (b->sent_within_known_limit && b->may_be_stored) return finish(b, e);
  b->may_be_stored = false;
  if (b->record_count() > 1 && now - b->created() < config_.delivery_timeout) {
    return split(s, b, e, now);
  }
  if (b->stamp()) take_back_sequences(s, b);
  finish(b, e);
}

error sender::too_large_for_broker_error(const batch_ptr& b) const {
  const auto frame =
      produce_frame_size(std::span<const batch_ptr>(&b, 1), static_cast<std::int8_t>(config_.acks),
                         config_.request_timeout, config_.client_id);
  return make_error(
      wire::ErrorCode::message_too_large,
      fmt::format("record batch of {} bytes ({} record{}) for {}-{} exceeds the broker's limit of "
                  "{} bytes per request (its --max-request-bytes; a request carrying it takes {} "
                  "bytes)",
                  b->bytes()->size(), b->record_count(), b->record_count() == 1 ? "" : "s",
                  b->tp().topic, b->tp().partition, *broker_request_limit_, frame));
}

// ---- batches too large for the broker, and sequences taken back -------------------------------

// The parts take b's place in the queue and its sequences; they go one at a time, as the head.
void sender::split(partition_state& s, const batch_ptr& b, const error& e, clock::time_point now) {
  auto at = remove(s, b);
  auto parts = b->split();
  accumulator_.batch_split(b->id(), parts.size());
  for (const auto& part : parts) {
    part->split_part = true;
    part->unsettled = config_.idempotence;
    part->later_may_be_stored = b->later_may_be_stored;
    part->last_error = e;
    retry_later(s, part, now);
  }
  s.queue.insert(at, parts.begin(), parts.end());
  s.split_parts += static_cast<int>(parts.size());
  if (config_.idempotence) {
    s.unsettled += static_cast<int>(parts.size());
    splits_unsettled_ += static_cast<int>(parts.size());
  }
}

// A split part may go once no batch after it is in flight. If none of them is stored, the
// broker expects the refused batch's first sequence next, and the parts cover exactly its
// sequences. If one is (or may be: a lost answer), the parts cannot be stored ahead of it and
// fail: storing them after it would break the partition's order.
void sender::settle_splits() {
  if (splits_unsettled_ == 0) return;
  batch_list refused;
  for (auto& [topic, states] : partitions_) {
    for (auto& s : states) {
      if (s.unsettled > 0) settle(s, refused);
    }
  }
  for (const auto& b : refused) finish(b, overtaken_error(*b));
}

void sender::settle(partition_state& s, batch_list& refused) {
  bool later_in_flight = false;
  bool later_may_be_stored = false;
  for (auto it = s.queue.rbegin(); it != s.queue.rend(); ++it) {
    auto& b = **it;
    if (b.unsettled && !later_in_flight) {
      b.unsettled = false;
      --s.unsettled;
      --splits_unsettled_;
      if (later_may_be_stored || b.later_may_be_stored) refused.push_back(*it);
    }
    later_in_flight = later_in_flight || b.current_state() == producer_batch::state::in_flight;
    later_may_be_stored = later_may_be_stored || b.may_be_stored;
  }
}

error sender::overtaken_error(const producer_batch& b) const {
  const error e = b.last_error ? *b.last_error
                               : make_error(wire::ErrorCode::message_too_large, "batch too large");
  return error{e.code, fmt::format("{}; its records were not sent again in smaller batches: a "
                                   "later batch of {}-{} was (or may have been) stored first, "
                                   "and they cannot be stored after it",
                                   e.detail, b.tp().topic, b.tp().partition)};
}

// b was refused for good, so the broker does not hold it. When it holds nothing after it
// either, the next sequence it expects is b's first: the later batches are numbered again from
// there, so none of them meets a gap (out_of_order_sequence, then a partition reset).
void sender::take_back_sequences(partition_state& s, const batch_ptr& b) {
  if (b->later_may_be_stored) return;
  auto it = std::find(s.queue.begin(), s.queue.end(), b);
  if (it == s.queue.end()) return;
  for (auto later = std::next(it); later != s.queue.end(); ++later) {
    const auto& l = **later;
    if (l.current_state() == producer_batch::state::in_flight || l.may_be_stored) return;
  }
  if (!sequences_.take_back(b->tp(), *b->stamp())) return;
  for (auto later = std::next(it); later != s.queue.end(); ++later) {
    (*later)->restamp(sequences_.assign(b->tp(), (*later)->record_count()));
  }
}

void sender::retry_later(partition_state& s, const batch_ptr& b, clock::time_point at) {
  b->retry_at = at;
  enter_state(s, *b, producer_batch::state::awaiting_retry);
}

void sender::finish(const batch_ptr& b, const result<std::int64_t>& outcome) {
  if (b->done()) return;
  if (b->current_state() != producer_batch::state::open) {
    auto& s = state_of(b->tp());
    if (outcome) s.confirmed = true;
    remove(s, b);
  }
  accumulator_.release_memory(b->memory_bytes());
  const auto n = static_cast<std::uint64_t>(b->record_count());
  if (outcome) {
    counters_.records_sent.fetch_add(n, std::memory_order_relaxed);
    counters_.batches_sent.fetch_add(1, std::memory_order_relaxed);
    b->complete(*outcome);
  } else {
    counters_.records_failed.fetch_add(n, std::memory_order_relaxed);
    b->fail(outcome.error());
  }
  accumulator_.batch_done(b->id());
}

// ---- bookkeeping ------------------------------------------------------------------------------

bool sender::may_send(const std::string& topic, std::int32_t partition) const {
  auto it = partitions_.find(topic);
  if (it == partitions_.end() || static_cast<std::size_t>(partition) >= it->second.size()) {
    return true;
  }
  const auto& s = it->second[static_cast<std::size_t>(partition)];
  const int limit = s.confirmed || !config_.idempotence ? config_.max_in_flight : 1;
  // While split parts are pending nothing new goes: a new batch in flight beside a part that is
  // refused again could be stored ahead of it.
  // (The queue's front is the oldest unfinished batch: see sender.h on the window.)
  const bool within_window =
      !config_.idempotence || s.queue.empty() ||
      s.sealed - s.queue.front()->window_index < static_cast<std::uint64_t>(limit);
  return s.awaiting == 0 && !s.reset_needed && s.split_parts == 0 && s.in_flight < limit &&
         within_window;
}

sender::partition_state& sender::state_of(const topic_partition& tp) {
  auto& states = partitions_[tp.topic];
  const auto p = static_cast<std::size_t>(tp.partition);
  if (states.size() <= p) states.resize(p + 1);
  return states[p];
}

std::deque<batch_ptr>::iterator sender::remove(partition_state& s, const batch_ptr& b) {
  leave_state(s, *b);
  if (b->split_part) --s.split_parts;
  if (b->unsettled) {
    b->unsettled = false;
    --s.unsettled;
    --splits_unsettled_;
  }
  auto it = std::find(s.queue.begin(), s.queue.end(), b);
  if (it == s.queue.end()) return it;
  // Stored (or maybe): its sequences follow those of every batch before it in the queue.
  if (b->may_be_stored) {
    for (auto earlier = s.queue.begin(); earlier != it; ++earlier) {
      (*earlier)->later_may_be_stored = true;
    }
  }
  return s.queue.erase(it);
}

void sender::leave_state(partition_state& s, producer_batch& b) {
  switch (b.current_state()) {
    case producer_batch::state::in_flight:
      --s.in_flight;
      break;
    case producer_batch::state::awaiting_retry:
      --s.awaiting;
      --awaiting_total_;
      break;
    default:
      break;
  }
}

void sender::enter_state(partition_state& s, producer_batch& b, producer_batch::state to) {
  leave_state(s, b);
  b.set_state(to);
  if (to == producer_batch::state::in_flight) ++s.in_flight;
  if (to == producer_batch::state::awaiting_retry) {
    ++s.awaiting;
    ++awaiting_total_;
  }
}

void sender::arm_timer(clock::time_point now, bool may_send_now) {
  std::optional<clock::time_point> next;
  const auto consider = [&](clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (may_send_now && requests_in_flight_ < config_.max_in_flight) {
    if (auto r = accumulator_.next_ready(now, may_send_)) consider(*r);
  }
  // A producer id request backing off (one due now was sent by this run).
  if (!producer_id_requested_ && producer_id_retry_at_ > now &&
      (!may_send_now || resets_pending_ > 0)) {
    consider(producer_id_retry_at_);
  }
  if (auto oldest = accumulator_.oldest_created()) consider(*oldest + config_.delivery_timeout);
  for (const auto& [topic, states] : partitions_) {
    for (const auto& s : states) {
      if (s.awaiting == 0) continue;
      for (const auto& b : s.queue) {
        if (b->current_state() != producer_batch::state::awaiting_retry) continue;
        consider(b->created() + config_.delivery_timeout);
        if (b == s.queue.front() && !s.reset_needed && !b->unsettled) consider(b->retry_at);
      }
    }
  }
  if (!next) return;
  // Never spin: whatever is due now was handled by this run, unless the sender is full.
  const auto at = std::max(*next, now + std::chrono::milliseconds(1));
  if (timer_at_ && *timer_at_ <= at && *timer_at_ > now) return;  // an earlier wake is set
  timer_at_ = at;
  timer_.expires_at(at);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    timer_at_.reset();
    run();
  });
}

// Batches in flight finish through their answers (and fail here on the next run).
void sender::fail_all_waiting(const error& e) {
  for (auto& b : accumulator_.expire(clock::time_point::max())) finish(b, e);
  batch_list waiting;
  for (auto& [topic, states] : partitions_) {
    for (auto& s : states) {
      for (const auto& b : s.queue) {
        if (b->current_state() != producer_batch::state::in_flight) waiting.push_back(b);
      }
    }
  }
  for (auto& b : waiting) finish(b, e);
}

void sender::abort(const error& e) {
  closed_ = true;
  timer_.cancel();
  for (auto& b : accumulator_.close()) finish(b, e);
  batch_list all;
  for (auto& [topic, states] : partitions_) {
    for (auto& s : states) all.insert(all.end(), s.queue.begin(), s.queue.end());
  }
  for (auto& b : all) finish(b, e);
}

}  // namespace sluice::producer_internal
