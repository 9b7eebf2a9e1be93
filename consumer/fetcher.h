#pragma once
// The io-thread half of a consumer: keeps fetches in flight for the assigned partitions, decodes
// the answers into the fetch_buffer, resets positions per auto_offset_reset, and retries after
// dropped connections and broker restarts from the positions it has.
//
// Pipelining: every partition that can be fetched (partition_state.h) while the buffer has room
// is put in one Fetch. Up to two fetches per partition are in flight: when an answer's message
// arrives, before its records, it says where each partition continues and the next Fetch goes
// out at once (from a broker that does not say, the next positions are read from the batch
// headers once the records are in, and the next Fetch goes out before they are decoded). The
// buffer can so exceed its limit by two answers per partition. A seek starts a new generation,
// so the partition is fetched again at once and the old answers are dropped when they arrive.
// When a request fails after its message moved the position on, the position goes back to that
// request's offset under a new generation.
//
// Failures: a partition that fails for good (CRC mismatch, undecodable batch, unknown topic,
// storage error, out of range with auto_offset_reset=none) gets a failure chunk after its
// records and stops until seek(). Lost connections and timed-out requests (the connection is
// closed and made again) are retried with backoff (50 ms doubling to 1 s); a network failure
// that lasts longer than request_timeout is reported to poll() (and again every request_timeout
// while it lasts), other request failures at once. A partition the broker answers with a
// retriable error (not_leader, broker_shutting_down, ...) is retried every 100 ms; once that
// has lasted request_timeout it is reported likewise, in a failure chunk of the partition that
// does not stop it. Retrying never stops while the consumer is open.
//
// Threading: every method runs on the io thread (the facade posts or calls there).
// Lifetime: shared_ptr; pending requests and the retry timer hold a reference. close() ends it.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "consumer/consumer.h"
#include "consumer/fetch_buffer.h"
#include "consumer/fetch_request.h"
#include "consumer/partition_state.h"
#include "protocol/client/broker_pool.h"
#include "protocol/result.h"

namespace sluice::consumer_detail {

class fetcher : public std::enable_shared_from_this<fetcher> {
 public:
  fetcher(const boost::asio::any_io_executor& ex, consumer_config config,
          std::vector<broker_address> bootstrap, std::shared_ptr<fetch_buffer> buffer);

  // A request of the facade's own (Metadata, ListOffsets) on the consumer's connection.
  void send(request_builder req, client_connection::response_handler handler);

  // Replaces the assignment: dropped partitions lose their buffered records, new ones start
  // per auto_offset_reset (with `none`, poll() fails for them until they are sought).
  void assign(const std::vector<topic_partition>& tps);
  // client_errc::invalid_argument naming the first partition not assigned.
  [[nodiscard]] result<void> check_assigned(const std::vector<topic_partition>& tps) const;
  // The next record poll() returns for tp is at `offset`; what was buffered for tp is dropped.
  // REQUIRES: tp assigned (check_assigned).
  void seek(const topic_partition& tp, std::int64_t offset);

  // Sends what can be sent now: offset resets, then fetches if the buffer has room.
  void maybe_fetch();
  // Stops fetching and closes the connection; later answers are ignored.
  void close();

 private:
  using clock = partition_state::clock;
  // What a request asked of one partition.
  struct sent_request {
    std::uint64_t generation;        // the partition's when the request was sent
    std::int64_t from = -1;          // the fetch offset; -1: a reset (ListOffsets)
    bool moved_position = false;     // the answer's message set the partition's next position
    std::int64_t claimed_next = -1;  // where that message said the partition continues
  };
  using sent_requests = std::map<topic_partition, sent_request>;
  struct decode_job {
    partition_state* state;
    std::uint64_t generation;
    std::int64_t from;                        // the fetch offset
    byte_span bytes;                          // valid while the answer's frame lives
    std::shared_ptr<const void> bytes_owner;  // the frame's bytes, which the records keep
  };

  [[nodiscard]] partition_state* current(const topic_partition& tp, std::uint64_t generation);
  void send_fetch(clock::time_point now);
  void send_resets(clock::time_point now);
  void on_fetch_header(sent_requests& sent, const wire::Response& header);
  void on_fetch_answer(const sent_requests& sent, result<response_frame> r);
  void on_fetched_partition(partition_state& st, const sent_request& asked,
                            const fetched_partition& p,
                            const std::shared_ptr<const void>& bytes_owner,
                            std::vector<decode_job>& jobs);
  void decode(const decode_job& job);
  void on_partition_error(partition_state& st, std::int64_t at, const fetched_partition& p);
  // Retries the partition after a short backoff; reports e when the errors have lasted.
  void retry_partition(partition_state& st, const error& e);
  void on_reset_answer(const sent_requests& sent, const std::vector<topic_partition>& asked,
                       result<response_frame> r);
  void on_request_failure(const sent_requests& sent, const error& e);
  void forget_fetch(partition_state& st, const sent_request& asked);
  // The records of an answer whose message moved the position end at `next`, not where the
  // message said: the fetch sent from there is dropped and the partition fetched from `next`.
  void refetch_from(partition_state& st, const sent_request& asked, std::int64_t next);
  // Stops the partition and queues `chunk` (its records, if any) with the failure; the
  // position after it is `at` (-1: unknown).
  void fail(partition_state& st, std::int64_t at, error e, fetched_chunk chunk = {},
            std::size_t reserved = 0);
  void report(const error& e);
  // Reports the network failure not yet reported once the outage has lasted, also when no
  // failure comes meanwhile (a reconnect to a broker that stopped waits for connect_timeout).
  void report_when_due(const error& e);
  void on_outage_timer();
  void push_report(const error& e);
  void note_success();
  void arm_retry_timer(clock::time_point at);

  boost::asio::any_io_executor ex_;
  consumer_config config_;
  std::shared_ptr<broker_pool> pool_;
  std::shared_ptr<fetch_buffer> buffer_;
  std::map<topic_partition, partition_state> states_;
  std::uint64_t next_generation_ = 1;
  std::uint64_t partitions_served_ = 0;  // partition_state::served_at
  boost::asio::steady_timer retry_timer_;
  std::optional<clock::time_point> retry_timer_at_;
  unsigned consecutive_failures_ = 0;
  failure_streak request_failures_;          // of whole requests, until one succeeds
  std::optional<error> unreported_failure_;  // the latest network failure, not reported yet
  boost::asio::steady_timer outage_timer_;
  bool closed_ = false;
};

}  // namespace sluice::consumer_detail
