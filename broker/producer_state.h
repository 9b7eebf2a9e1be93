#pragma once
// Idempotent producers on one partition: which batches each producer id has stored, so a retry
// of a stored batch is answered with its original offset instead of being stored twice, and a
// gap in the sequence numbers is refused.
//
// A producer numbers its records per partition (base_sequence of a batch = sequence of its first
// record; the next batch continues after its last record). For each producer id this table keeps
// the epoch, the last `remembered_batches` acknowledged batches and the batches in flight (sent
// to the log, not yet acknowledged). A batch is:
//   - a duplicate when its (first, last) sequence equals a remembered or in-flight batch;
//   - accepted when it starts right after the newest batch (in flight or acknowledged), or when
//     the producer id is unknown here (its state may have been lost to retention);
//   - refused otherwise: out_of_order_sequence, or invalid_producer_epoch for an older epoch.
//
// Threading: owned by a partition; its shard only.

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

#include "protocol/batch_header.h"
#include "protocol/idempotent_window.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

struct producer_batch_ids {
  std::int64_t producer_id = -1;
  std::int16_t epoch = -1;
  std::int32_t first_sequence = -1;
  std::int32_t last_sequence = -1;

  [[nodiscard]] bool idempotent() const { return producer_id >= 0; }
  [[nodiscard]] static producer_batch_ids of(const batch_header& h);
  bool operator==(const producer_batch_ids&) const = default;
};

class producer_state_table {
 public:
  // Kafka keeps five; see protocol/idempotent_window.h.
  static constexpr std::size_t remembered_batches = idempotent_window_batches;

  struct stored_batch {
    std::int32_t first_sequence;
    std::int32_t last_sequence;
    offset base;
    bool operator==(const stored_batch&) const = default;
  };
  // What the table remembers of one producer, as a snapshot holds it
  // (broker/producer_snapshot.h).
  struct remembered_producer {
    std::int64_t producer_id = -1;
    std::int16_t epoch = -1;
    std::int64_t last_timestamp = -1;   // when its newest batch was stored; -1 when not known
    std::vector<stored_batch> batches;  // oldest first
    bool operator==(const remembered_producer&) const = default;
  };

  struct verdict {
    enum class kind { append, duplicate_stored, duplicate_in_flight };
    kind what = kind::append;
    offset stored_base{-1};  // duplicate_stored: where the original is
  };

  // What to do with a batch before it is appended. Fails with out_of_order_sequence or
  // invalid_producer_epoch (the detail says expected and received values).
  [[nodiscard]] result<verdict> check(const producer_batch_ids& ids) const;

  // The batch was handed to the log, which gives it offset `base` (REQUIRES: check() said
  // append). Returns what names this attempt to on_failed.
  std::uint64_t on_submitted(const producer_batch_ids& ids, offset base);
  // The log acknowledged it at `base`; it becomes remembered. `stored_at_ms` dates the producer
  // for expire_older_than (-1: not dated, never expires).
  void on_stored(const producer_batch_ids& ids, offset base, std::int64_t stored_at_ms = -1);
  // The append `attempt` (from on_submitted) failed; it is forgotten (the producer will retry
  // it). Not by its ids: forget_unwritten may have dropped it already, and a retry with the
  // same ids may be in flight since.
  void on_failed(const producer_batch_ids& ids, std::uint64_t attempt);
  // Forgets the producer's batches in flight at offsets from `log_end` on: the log refused or
  // cut them away (a write error cuts the log back at once), and their on_failed is still on
  // its way. Until it comes they must not count as the predecessors of a new batch.
  void forget_unwritten(std::int64_t producer_id, offset log_end);
  // The same for every producer: the log was cut back to `log_end` (partition_log::on_cut_back),
  // and another producer's batch may be appended there before those answers come.
  void forget_all_unwritten(offset log_end);

  // Rebuilds state from a batch already in the log (on open); one it remembers already (same
  // base offset) changes nothing.
  void restore(const batch_header& h);
  // Rebuilds one producer's state from a snapshot; it replaces what the table had of it.
  void restore(const remembered_producer& p);
  // Every producer's remembered batches stored below `below` (in-flight ones are not part of
  // it), by producer id. Those below an offset are what a table rebuilt from the batches below
  // it would remember, as far as the batches from there on leave room for (at most
  // remembered_batches in all), which is all a rebuild that goes on from there keeps of them.
  [[nodiscard]] std::vector<remembered_producer> remembered(
      offset below = offset{std::numeric_limits<std::int64_t>::max()}) const;
  // As remembered(below), with the batches in flight below `below` counted as stored. For
  // retention's new log start: the log deletes only segments it has acknowledged, but the
  // acknowledgements are queued to run later, so batches in those segments may still be in
  // flight here. Left out, a snapshot taken then would not know them, and after a crash their
  // retries would be refused or stored twice.
  [[nodiscard]] std::vector<remembered_producer> remembered_acknowledged(offset below) const;
  // Forgets producers with nothing in flight whose newest batch is older than `timestamp` (as
  // Kafka expires producer ids after producer.id.expiration.ms), so a snapshot does not keep
  // every producer id a partition has ever seen. Producers whose age is not known are kept.
  void expire_older_than(std::int64_t timestamp);

  // On open the state is rebuilt from the log's last segments only, so a producer's batches
  // stored before them are not remembered: a retry of one of them (its acknowledgement was lost
  // to a crash) would be refused as out of order, or, from a producer none of whose batches is
  // in those segments, accepted and stored twice. True when `ids` may be such a retry: a
  // producer unknown here (even at sequence 0: its first batch may be what is retried), or a
  // restored producer's batch (same epoch) older than the oldest one remembered. The caller
  // then rebuilds the state from the whole log before answering (partition::produce).
  [[nodiscard]] bool may_predate_restored_state(const producer_batch_ids& ids) const;

  // A producer's batches older than the last remembered_batches are forgotten, but one of them
  // may still be retried: an attempt of it timed out on the client while it was stored, and
  // the producer sent newer batches meanwhile (a request timeout does not stop the broker from
  // processing the request). check() refuses such a retry as out_of_order_sequence, which the
  // producer would take as "not stored" and send the batches again under a new producer id.
  // When `ids` is older than the oldest batch remembered of its producer (same epoch), returns
  // that batch's base offset, so the caller can look for `ids` in the log before it.
  [[nodiscard]] std::optional<offset> older_than_remembered(const producer_batch_ids& ids) const;

  // Takes over the batches in flight of `live` (the table this one replaces, after it was
  // rebuilt from the whole log: what is stored is in the log, what is in flight is not yet),
  // and the dates live knew producers by, where later than the rebuilt ones.
  void adopt_in_flight(const producer_state_table& live);
  // Dates each producer this table shares with `live` (same epoch) by the later of the two.
  // live's dates are the broker's clock at each store; rebuilt from the log, they would be the
  // records' own timestamps, which a producer re-ingesting history sets old.
  void take_dates_from(const producer_state_table& live);

  [[nodiscard]] std::size_t producer_count() const { return producers_.size(); }

 private:
  struct in_flight_batch {
    producer_batch_ids ids;
    offset base;
    std::uint64_t attempt;
  };
  struct producer_entry {
    std::int16_t epoch = -1;
    std::int64_t last_timestamp = -1;
    std::deque<stored_batch> stored;        // oldest first, at most remembered_batches
    std::deque<in_flight_batch> in_flight;  // submission order
    bool restored = false;  // rebuilt from the log on open: older batches may be forgotten
  };

  void remember(producer_entry& e, const producer_batch_ids& ids, offset base);
  static void forget_in_flight_from(producer_entry& e, offset log_end);
  [[nodiscard]] std::vector<remembered_producer> remembered_below(offset below,
                                                                  bool with_in_flight) const;

  std::unordered_map<std::int64_t, producer_entry> producers_;
  std::uint64_t next_attempt_ = 0;
};

}  // namespace sluice
