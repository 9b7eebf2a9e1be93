#pragma once
// What a consumer's io thread knows about one assigned partition. Owned by the fetcher and
// touched only on the io thread (no lock).
//
// States: needs a reset (no fetch position: ListOffsets per auto_offset_reset), fetchable,
// fetching (up to consumer_config::max_fetches_in_flight Fetches are in flight), resetting (a
// ListOffsets is in flight), stopped (a failure was handed to poll(); nothing is fetched until the
// caller seeks).
//
// Two fetches in flight: the broker says in each answer's message where the partition continues
// (next_fetch_offset), and that message arrives before the answer's records. Once it has, the
// next fetch goes out while the records are still on their way, so the broker always has the
// next answer to send. Until then the position is pending and nothing more is asked for.
//
// Generations: every seek, reset and failure gives the partition a new generation number; an
// answer to a request sent under an older one is stale and is dropped. This is how a seek while
// a fetch is in flight discards that fetch's answer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "consumer/consumer.h"
#include "consumer/fetch_buffer.h"

namespace sluice::consumer_detail {

// Failures that go on: retried quietly at first, as most end within moments (a reconnect, a
// restarting broker), then reported once they have lasted `quiet`, and again every `quiet`
// while they last.
struct failure_streak {
  using clock = std::chrono::steady_clock;

  std::optional<clock::time_point> since;
  std::optional<clock::time_point> last_reported;

  // Notes a failure at `now`; whether it is time to report the streak.
  [[nodiscard]] bool note(clock::time_point now, clock::duration quiet) {
    if (!since) since = now;
    return now >= next_report_at(quiet);
  }
  // REQUIRES: a failure was noted since the streak began.
  [[nodiscard]] clock::time_point next_report_at(clock::duration quiet) const {
    return last_reported.value_or(*since) + quiet;
  }
  void reported(clock::time_point now) { last_reported = now; }
  void end() {
    since.reset();
    last_reported.reset();
  }
};

struct partition_state {
  using clock = std::chrono::steady_clock;

  std::shared_ptr<partition_view> view;  // shared with poll() through the fetch_buffer
  std::uint64_t generation = 0;
  std::optional<std::int64_t> fetch_position;  // the next offset to fetch; nullopt: reset first
  int fetches_in_flight = 0;
  bool position_pending = false;  // a fetch in flight has not yet said where the next one starts
  bool resetting = false;
  bool stopped = false;
  clock::time_point retry_at{};  // after a retriable failure, nothing is sent before this
  // When records last came for it, on the fetcher's count of partitions served: a Fetch lists
  // the longest unserved first, as the broker fills its answer in request order and leaves out
  // what no longer fits under fetch_max_bytes (with one fixed order, partitions late in it got
  // nothing while earlier ones had a backlog).
  std::uint64_t served_at = 0;
  // The broker's retriable errors for this partition alone (not_leader, ...) in a row.
  failure_streak retriable_errors;

  // max_in_flight: consumer_config::max_fetches_in_flight.
  [[nodiscard]] bool can_fetch(clock::time_point now, int max_in_flight) const {
    return fetch_position && !position_pending && fetches_in_flight < max_in_flight && !resetting &&
           !stopped && retry_at <= now;
  }
  [[nodiscard]] bool needs_reset(clock::time_point now) const {
    return !fetch_position && fetches_in_flight == 0 && !resetting && !stopped && retry_at <= now;
  }
  // Waiting only for retry_at before it can be sent something.
  [[nodiscard]] bool backing_off(clock::time_point now) const {
    return fetches_in_flight == 0 && !resetting && !stopped && retry_at > now;
  }
  // Nothing in flight counts any more (its answers will be stale: a new generation).
  void forget_requests() {
    fetches_in_flight = 0;
    position_pending = false;
    resetting = false;
  }
};

}  // namespace sluice::consumer_detail
