#pragma once
// One partition as the broker serves it: its partition log, the idempotent-producer table, and
// the long-polling fetches waiting for its data.
//
// Threading: a partition belongs to one shard; every method runs on that shard's thread, and
// completion handlers run there too (callers post results onward). No locking.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/data_waiter.h"
#include "broker/producer_snapshot.h"
#include "broker/producer_state.h"
#include "protocol/bytes.h"
#include "protocol/held_bytes.h"
#include "protocol/result.h"
#include "segment/log_config.h"
#include "segment/log_slice.h"
#include "segment/partition_log.h"

namespace sluice {

namespace io {
class backend;
}

struct partition_id {
  std::string topic;
  std::int32_t partition = 0;
  [[nodiscard]] std::string dir_name() const;  // "<topic>-<partition>"
  auto operator<=>(const partition_id&) const = default;
};

struct produce_outcome {
  offset base_offset{-1};
  offset log_start_offset{-1};
  bool duplicate = false;  // an idempotent retry; base_offset is where the original is
};

// A read of a partition that exists: whole batches, or why there are none to give (an offset
// out of range, a damaged segment), with the partition's bounds either way, so a reader that
// fell off the log learns where it now starts and ends.
struct read_outcome {
  result<log_slice> slice;
  offset high_watermark{-1};
  offset log_start_offset{-1};
};

struct partition_status {
  offset log_start_offset{0};
  offset high_watermark{0};
  offset log_end_offset{0};
  std::uint64_t size_bytes = 0;
  std::size_t segments = 0;
  std::optional<error> offline;
};

class partition {
 public:
  using produce_handler = std::function<void(result<produce_outcome>)>;

  // Opens (recovering if needed) the log in `dir` and rebuilds producer state from its last
  // segments. Synchronous; on the owning shard.
  [[nodiscard]] static result<std::unique_ptr<partition>> open(partition_id id,
                                                               std::filesystem::path dir,
                                                               const log_config& config,
                                                               io::backend& io,
                                                               boost::asio::io_context& ctx);
  ~partition();

  // Checks idempotence, appends, and calls `done` when the batch is acknowledged under the
  // flush policy (or failed). A duplicate of a stored batch completes with its original offset;
  // a duplicate of a batch still in flight completes when that one does, with its outcome.
  void produce(held_bytes batch, produce_handler done);

  [[nodiscard]] read_outcome read(offset from, std::size_t max_bytes) const;
  // Wakes `w` (with this partition, on this shard) at the next advance of the readable end,
  // or at once when records at or past `from` are already readable (they arrived after the
  // fetch read).
  void add_waiter(const std::shared_ptr<data_waiter>& w, offset from);
  // Wakes every waiting fetch (new data, or the broker is shutting down).
  void wake_waiters();

  // What ListOffsets answers: the offset `spec` names (-2 the log start, -1 the end, else the
  // first record at or after that timestamp; nullopt: none is that late) and the log end as of
  // the same lookup.
  struct listed_offset {
    std::optional<offset> found;
    offset log_end;
  };
  [[nodiscard]] result<listed_offset> offset_for(std::int64_t spec) const;

  [[nodiscard]] partition_status status() const;
  [[nodiscard]] result<void> reconfigure(const log_config& config) {
    return log_->reconfigure(config);
  }
  void join_page_cache_budget(std::shared_ptr<page_cache_budget> budget) {
    log_->join_page_cache_budget(std::move(budget));
  }
  void check_page_cache_idle() { log_->check_page_cache_idle(); }
  // Retention of the log (partition_log::enforce_retention); before segments go, what the
  // producer table needs of them is folded into the producer snapshot
  // (broker/producer_snapshot.h). Producers idle for producer_id_expiration are forgotten
  // first (every retention check, whether or not anything is deleted).
  [[nodiscard]] result<std::size_t> enforce_retention();
  // close() of the log: waits for appends in flight, writes a clean checkpoint.
  void close(std::function<void(result<void>)> done);

  [[nodiscard]] const partition_id& id() const { return id_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return log_->dir(); }

 private:
  // How much log find_forgotten_batch reads headers of, beyond its first two segments.
  static constexpr std::size_t forgotten_search_bytes = 16 << 20;
  // A producer that stored nothing for this long is forgotten (Kafka's default
  // producer.id.expiration.ms): by the broker's clock when it stored its newest batch here, or
  // by that batch's timestamp when the state was read from the log.
  static constexpr std::chrono::milliseconds producer_id_expiration{24 * 3600 * 1000};
  // Producers whose newest batch is older than this (milliseconds since the epoch) expire.
  [[nodiscard]] static std::int64_t producer_expiry();
  struct in_flight_duplicate {
    producer_batch_ids ids;
    produce_handler done;
  };

  partition(partition_id id, std::unique_ptr<partition_log> log);
  // The snapshot in `dir`; an empty one when there is none or it is damaged (logged).
  [[nodiscard]] static producer_snapshot load_producer_snapshot(const partition_id& id,
                                                                const std::filesystem::path& dir);
  // Takes the snapshot as the state below its offset, moved up to `leftovers_end` when open
  // folded segments a crash left below the log start into it (and then written).
  void adopt_producer_snapshot(producer_snapshot snapshot, std::optional<offset> leftovers_end);
  [[nodiscard]] result<void> restore_producer_state();
  // The producer state of the whole partition: the snapshot's, then every batch header in the
  // log from where the snapshot ends.
  [[nodiscard]] result<producer_state_table> whole_producer_state() const;
  // Rebuilds the producer state from the whole partition (restore_producer_state read only the
  // last two segments), keeping the batches in flight.
  void complete_producer_state();
  // Brings the producer snapshot up to `new_log_start` and writes it (retention is about to
  // delete the segments below): from the table when it is complete, else by folding those
  // segments' batch headers into the snapshot.
  void retain_producer_state(offset new_log_start);
  void save_producer_snapshot(const producer_state_table& table, offset until) const;
  // Where the log's headers take over from the snapshot.
  [[nodiscard]] offset producer_scan_start() const;
  // The base offset of the batch stored with exactly these ids before `before`
  // (producer_state_table::older_than_remembered). Searched segment by segment backwards from
  // the one holding `before`, until a batch of the same producer older than the one sought
  // shows it was never stored, or the budget (forgotten_search_bytes, at least two segments)
  // is spent.
  [[nodiscard]] std::optional<offset> find_forgotten_batch(const producer_batch_ids& ids,
                                                           offset before) const;
  void append_checked(held_bytes batch, const producer_batch_ids& ids, produce_handler done);
  void finish_append(const producer_batch_ids& ids, std::uint64_t attempt,
                     const result<append_info>& r, const produce_handler& done);

  partition_id id_;
  std::unique_ptr<partition_log> log_;
  producer_state_table producers_;
  bool producer_state_complete_ = false;  // built from the whole log, or kept since it was
  // The snapshot: the producer state built from every batch below retained_until_ (most of them
  // deleted by retention since).
  producer_state_table retained_producers_;
  offset retained_until_{0};
  std::vector<in_flight_duplicate> duplicates_;
  std::vector<std::weak_ptr<data_waiter>> waiters_;
};

}  // namespace sluice
