#pragma once
// Closed-loop appenders against one partition log, as producers connected to one shard would
// be: each of `appenders` keeps exactly one append outstanding and issues its next when the
// previous one is acknowledged. Batches come round-robin from a prebuilt set; each append gets
// a fresh copy (the log takes ownership of the buffer, as it would of a request's bytes).
//
// Latency is measured from the append() call to the handler. Statistics count only the
// acknowledgements that arrive while counting is on (stop_counting() freezes them), so a
// timed run can exclude the appends still draining after its deadline.
//
// Threading: runs on the shard's thread; the log and batches must outlive the driver's work.

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include "admin/cli/latency_histogram.h"
#include "perf/batch_factory.h"
#include "protocol/result.h"
#include "segment/partition_log.h"

namespace sluice::bench {

using cli::latency_histogram;
using cli::to_us;

struct append_stats {
  std::uint64_t appends = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  latency_histogram latency;
};

class append_driver {
 public:
  // REQUIRES: !batches.empty(), appenders >= 1.
  append_driver(partition_log& log, std::span<const prebuilt_batch> batches, int appenders);
  append_driver(const append_driver&) = delete;
  append_driver& operator=(const append_driver&) = delete;

  // No append starts once `bytes` have been issued (the last one may pass it).
  void limit_bytes(std::uint64_t bytes) { byte_limit_ = bytes; }
  // Each appender issues its first append; handlers run as the shard's loop turns.
  void start();
  // No further appends are issued; those outstanding still complete.
  void stop_issuing() { issuing_ = false; }
  void stop_counting() { counting_ = false; }

  // Nothing outstanding and nothing more to issue (stopped, limit reached or failed).
  [[nodiscard]] bool finished() const { return outstanding_ == 0 && !may_issue(); }
  [[nodiscard]] const append_stats& stats() const { return stats_; }
  // The first append that failed; the driver stops issuing after it.
  [[nodiscard]] const std::optional<error>& failure() const { return failure_; }

 private:
  [[nodiscard]] bool may_issue() const {
    return issuing_ && !failure_ && issued_bytes_ < byte_limit_;
  }
  void issue();
  void on_ack(const prebuilt_batch& batch, std::chrono::steady_clock::time_point started,
              result<append_info> r);

  partition_log& log_;
  std::span<const prebuilt_batch> batches_;
  int appenders_;
  std::size_t next_batch_ = 0;
  std::uint64_t issued_bytes_ = 0;
  std::uint64_t byte_limit_ = std::numeric_limits<std::uint64_t>::max();
  int outstanding_ = 0;
  bool issuing_ = true;
  bool counting_ = true;
  append_stats stats_;
  std::optional<error> failure_;
};

}  // namespace sluice::bench
