#pragma once
// What sluice-crash-appender and the crash test agree on: the log's settings (the test reopens
// the log with the same ones) and the environment variables that steer the appender.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "segment/log_config.h"
#include "segment/partition_log.h"

namespace sluice::crash {

// Appends the appender keeps in flight at once (so group commit has something to group).
inline constexpr int appends_in_flight = 4;
// Batch sizes are spread (log-uniformly) over [min, max] bytes.
inline constexpr std::size_t min_batch_bytes = 100;
inline constexpr std::size_t max_batch_bytes = 20 << 10;
// enforce_retention() runs after every this many acknowledgements.
inline constexpr int retention_every_acks = 8;
// retention.bytes: 8 segments. Small enough that retention deletes segments during a 60-cycle
// run even where fdatasync takes milliseconds (about 0.5 MB/s acknowledged); large enough that
// on such a disk one cycle's acknowledgements are not deleted before they are checked.
inline constexpr std::int64_t default_retention_bytes = 512 << 10;

// Overrides retention.bytes in the appender (the kill-point test uses a small one so retention
// deletes segments within a short run).
inline constexpr const char* retention_env = "SLUICE_CRASH_RETENTION_BYTES";
// "<kill point>:<n>": the appender raises SIGKILL the n-th time it reaches that point
// (kill_points.h lists them).
inline constexpr const char* kill_at_env = "SLUICE_CRASH_KILL_AT";
// A file the process appends "kill <name>\n" to just before it dies at a kill point, for
// processes that have no ack fd (sluiced-killpoints, the broker of the chaos harness).
inline constexpr const char* kill_report_env = "SLUICE_CRASH_KILL_REPORT";

// Small segments so rolls happen often, a 5 ms checkpoint interval so checkpoint replacement
// happens under fire, flush=always, no time-based retention (the batches' timestamps are
// synthetic).
[[nodiscard]] inline log_config crash_log_config(std::int64_t retention_bytes) {
  log_config cfg;
  cfg.segment_bytes = 64 << 10;
  cfg.retention_bytes = retention_bytes;
  cfg.retention_ms = std::chrono::milliseconds(-1);
  cfg.flush = flush_policy{};
  cfg.checkpoint_interval = std::chrono::milliseconds(5);
  return cfg;
}

// The crash tests' 64 KiB segments are recycled (partition_log::recycle_segments) like a
// broker's 1 GiB ones, so every roll after the first retention writes over a kept file: both
// the appender and the test's reopen call this before opening the log.
inline void recycle_small_segments() {
  partition_log::recycle_min_bytes = 0;
  partition_log::recycle_min_free_bytes = 0;  // whatever the machine's disk has free
}

// retention.bytes as the appender will use it: retention_env if set, else the default.
[[nodiscard]] inline std::int64_t retention_bytes_from_env() {
  const char* v = std::getenv(retention_env);
  return v != nullptr ? std::stoll(v) : default_retention_bytes;
}

}  // namespace sluice::crash
