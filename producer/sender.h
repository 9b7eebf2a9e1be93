#pragma once
// The sender: the io-thread half of the producer. It takes batches from the accumulator, seals
// them (compression, producer id and sequence), sends them in Produce requests (up to
// max_in_flight at once), and turns every answer into an outcome or a retry.
//
// Per partition, the sender keeps the batches it has sealed and not yet finished, in sequence
// order (the queue). The rules that keep a partition's records stored once and in order:
//  - A batch is always resent with the bytes it was first sent with, so the broker recognises
//    a retry of a batch it already stored (duplicate=true, with the original offset).
//  - After a retriable failure (connection lost, timed out, not_enough_space, ...) the
//    partition is recovering: only its oldest unfinished batch (the head) may be resent, after
//    the backoff, and no new batch is taken until no batch of the partition waits for a retry.
//    A later batch that failed too is resent only once every batch before it has its outcome.
//  - out_of_order_sequence on the head means the broker holds none of the partition's batches
//    from the head on (an earlier batch was refused or given up): once nothing of the partition
//    is in flight, the partition is reset — it moves to a new producer id (InitProducerId),
//    its queued batches are stamped again from sequence 0 and resent in order. On a later
//    batch, out_of_order_sequence only means an earlier one is missing: it waits its turn.
//  - With idempotence, a partition's new batch goes only while fewer than max_in_flight
//    batches have been sealed since its oldest unfinished one, finished ones included. The
//    broker answers pipelined requests as each completes, so a request held up (a slow
//    partition in it, a lost answer) does not stop those behind it; without this bound the
//    partition would go on storing batches until that request times out, and its retry would
//    be older than the batches the broker remembers per producer (idempotent_window_batches):
//    refused as out of order, then stored again under a new producer id. With the bound, a
//    retry is always among the last max_in_flight (at most idempotent_window_batches) stored.
//  - Until the broker has acknowledged a batch of a partition's (current) producer id, only one
//    batch of that partition is in flight: a broker takes any sequence from a producer id it
//    does not know yet, so a pipelined batch could overtake a refused first one.
//  - A batch the broker refuses for good (corrupt_batch, unknown_topic, message_too_large for
//    a single record, ...) fails with the broker's error and message. When no later batch of
//    the partition is in flight or may be stored (none was acknowledged, none has an attempt
//    of unknown fate), its sequences are taken back and the later batches renumbered from its
//    first sequence, so the broker never sees the gap; otherwise the gap ends in
//    out_of_order_sequence and a reset, as above.
//  - message_too_large for a batch of two or more records (it is above the topic's
//    max.message.bytes, which may be below batch_size) splits it, before its delivery_timeout:
//    its records go, in order, into parts of at most half its size (a record larger than that
//    alone) that take its place in the queue. With idempotence the parts carry its producer id
//    and exactly its sequences (the broker stored nothing of it); they wait until no later
//    batch of the partition is in flight, then: if none is stored (each was refused, e.g.
//    out_of_order_sequence, or never sent) the broker expects the batch's first sequence
//    next, and the parts go; if one is or may be stored (a broker may take a batch pipelined
//    behind the refused one before it has forgotten it), the parts fail with the broker's
//    message_too_large, as storing them after it would break the order. The parts go one at
//    a time, as the head (a refused part splits again), and no new batch of the partition is
//    taken until every part is done, so nothing is in flight beside a part that may be
//    refused. Only a record too large on its own fails with message_too_large. Without
//    idempotence the parts do not wait for the later batches (and may land after one of
//    them, as any retry may).
//  - The broker's request size limit (its --max-request-bytes) comes with each connection's
//    ApiVersions answer, before any request is planned on it, and replaces what was known. A
//    request planned under another limit (an earlier connection's) is not sent (unsend) but planned
//    again, fitting or not, so that a later batch of its partitions, in a request that fits, cannot
//    overtake one of its batches. From a broker that does not tell it: a request above the limit is
//    refused unread, and the broker closes the connection: every request in flight on it fails with
//    connection_lost, the limit named in the detail (refused_frame_limit), or, when the close cuts
//    short the write of the large request, with the write's network error. Such failures are
//    retried as any lost connection until one names the limit; from then on (until a connection
//    tells another) the sender keeps every request within it. A batch that does not fit a request
//    of its own can never be sent (retried, it would cost the connection and every request on it
//    each time, until delivery_timeout). The broker read none of its attempts, each larger than the
//    limit, so as a batch refused as message_too_large it is split if it holds two or more records,
//    and else fails at once with message_too_large naming its size and the limit (its sequences
//    taken back as for any batch refused for good). This takes the limit, a start-up option of the
//    broker, to have been the same for every attempt; a batch once sent while a limit was known and
//    within it (sent_within_known_limit), which may be stored, instead fails whole with
//    message_too_large, keeping its sequences, as a batch of unknown fate (a broker restarted with
//    a lower limit). Batches that fit alone but not together go in separate requests, as retries of
//    unknown fate.
//  - delivery_timeout: a batch not done that long after its creation fails with timed_out,
//    naming the last error; a batch in flight then fails when that attempt ends. Its fate may
//    be unknown (a timed-out attempt may have been stored); the next batch's answer settles
//    the sequence (stored: accepted; not stored: out_of_order_sequence, then a reset).
//
// Threading: everything on the io thread except wake(). Callbacks of records run here.
// Lifetime: owned by the producer, which stops the io thread before destroying it.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "producer/idempotence.h"
#include "producer/producer_batch.h"
#include "producer/record_accumulator.h"
#include "producer/topic_metadata.h"
#include "protocol/client/broker_pool.h"

namespace sluice::producer_internal {

struct producer_counters {
  std::atomic<std::uint64_t> records_sent{0};
  std::atomic<std::uint64_t> records_failed{0};
  std::atomic<std::uint64_t> batches_sent{0};
  std::atomic<std::uint64_t> retries{0};
};

class sender {
 public:
  sender(boost::asio::any_io_executor ex, std::shared_ptr<broker_pool> pool,
         record_accumulator& accumulator, topic_metadata& metadata, const producer_config& config,
         producer_counters& counters);
  ~sender();
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;

  // Any thread: runs the sender soon on the io thread (several wakes before it runs, one run).
  void wake();
  // Io thread: fails every batch (waiting, in flight, awaiting a retry) with e, exactly once,
  // and stops; later wakes do nothing. The caller closes the broker pool afterwards.
  void abort(const error& e);

 private:
  struct partition_state {
    std::deque<batch_ptr> queue;  // sealed, not finished, in sequence order
    int in_flight = 0;
    int awaiting = 0;  // batches of the queue in state awaiting_retry
    bool reset_needed = false;
    // The broker acknowledged a batch of this partition's current producer id. Until then one
    // batch at a time: a broker accepts any sequence from a producer id it does not know, so a
    // second batch overtaking a refused first one would be stored ahead of it.
    bool confirmed = false;
    int split_parts = 0;       // parts of split batches in the queue: no new batch goes meanwhile
    std::uint64_t sealed = 0;  // batches sealed so far: the next one's window_index
    int unsettled = 0;         // of which wait for the fate of the batches after them
  };
  using batch_list = std::vector<batch_ptr>;

  void run();
  void expire(clock::time_point now);
  void reset_partitions(clock::time_point now);
  void send_batches(clock::time_point now);
  // The batches of the next Produce request: retries due, then new batches, within the limits.
  batch_list next_request(clock::time_point now);
  [[nodiscard]] std::size_t request_payload_limit() const;
  batch_list due_retries(clock::time_point now, std::size_t max_bytes);
  batch_list drain_new(clock::time_point now, std::size_t max_bytes);
  void send_request(batch_list batches);
  // Takes back the attempt of a request that was not sent (planned under another request limit
  // than the one its connection told): its batches go again, as before it.
  void unsend(const batch_list& batches, const std::vector<bool>& may_have_been_stored);
  void request_producer_id();
  void on_producer_id(result<response_frame> r);
  void on_answer(const batch_list& batches, result<response_frame> r);
  void on_written(const batch_list& batches, const result<void>& r);
  void on_failure(const batch_ptr& b, const error& e);
  // ---- the broker's request size limit (sender.h) ----
  void learn_request_limit(const error& e);
  void learn_request_limit(const client_connection& c);  // what its ApiVersions answer said
  [[nodiscard]] bool fits_request_limit(std::span<const batch_ptr> batches) const;
  [[nodiscard]] bool fits_request_limit(const batch_ptr& b) const;
  // Refuses the batches that cannot fit a request; puts off those that fit alone but would take
  // the request past the limit.
  void keep_within_request_limit(batch_list& batches, clock::time_point now);
  // How many of `batches`, from the first, fit one request. REQUIRES: each fits alone.
  [[nodiscard]] std::size_t longest_fitting_prefix(std::span<const batch_ptr> batches) const;
  void refuse_too_large_for_broker(partition_state& s, const batch_ptr& b, clock::time_point now);
  [[nodiscard]] error too_large_for_broker_error(const batch_ptr& b) const;
  void retry_later(partition_state& s, const batch_ptr& b, clock::time_point at);
  void split(partition_state& s, const batch_ptr& b, const error& e, clock::time_point now);
  void settle_splits();
  // Settles the unsettled parts no in-flight batch follows; adds those that must fail.
  void settle(partition_state& s, batch_list& refused);
  [[nodiscard]] error overtaken_error(const producer_batch& b) const;
  void take_back_sequences(partition_state& s, const batch_ptr& b);
  void finish(const batch_ptr& b, const result<std::int64_t>& outcome);
  void arm_timer(clock::time_point now, bool may_send_now);
  void fail_all_waiting(const error& e);

  [[nodiscard]] bool may_send(const std::string& topic, std::int32_t partition) const;
  partition_state& state_of(const topic_partition& tp);
  // Takes b out of its partition's queue and counters; returns where it was.
  std::deque<batch_ptr>::iterator remove(partition_state& s, const batch_ptr& b);
  // Leaves b's current state: the partition's counters follow.
  void leave_state(partition_state& s, producer_batch& b);
  void enter_state(partition_state& s, producer_batch& b, producer_batch::state to);
  [[nodiscard]] error expired_error(const producer_batch& b) const;

  boost::asio::any_io_executor ex_;
  std::shared_ptr<broker_pool> pool_;
  record_accumulator& accumulator_;
  topic_metadata& metadata_;
  const producer_config& config_;
  producer_counters& counters_;
  record_accumulator::partition_filter may_send_;
  boost::asio::steady_timer timer_;
  std::optional<clock::time_point> timer_at_;
  std::atomic<bool> wake_posted_{false};

  std::unordered_map<std::string, std::vector<partition_state>> partitions_;
  int requests_in_flight_ = 0;
  int awaiting_total_ = 0;
  int resets_pending_ = 0;
  int splits_unsettled_ = 0;

  producer_sequences sequences_;
  bool producer_id_requested_ = false;
  clock::time_point producer_id_retry_at_{};
  std::optional<error> fatal_;       // InitProducerId refused for good: every batch fails
  std::optional<error> last_error_;  // the latest failure, for the detail of expired batches
  // The broker's largest request frame, once a connection's handshake or a refusal named it.
  std::optional<std::size_t> broker_request_limit_;
  bool closed_ = false;
};

}  // namespace sluice::producer_internal
