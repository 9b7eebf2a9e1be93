#pragma once
// Per-log settings, named and defaulted like Kafka's topic configs.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/result.h"

namespace sluice {

// When an append counts as done. always: after fdatasync (group commit shares one fdatasync
// among all appends that arrived while the previous one was in flight). interval: after the
// write reaches the page cache; a timer fdatasyncs every `interval`, so a machine crash may lose
// up to that window (a process crash loses nothing).
struct flush_policy {
  enum class mode { always, interval };
  mode kind = mode::always;
  std::chrono::milliseconds interval{0};

  // Longer intervals overflowed the sync grid's nanoseconds (next_sync_after): a negative step
  // made the flush timer fire in a loop, a zero one divided by zero on every start.
  static constexpr std::int64_t max_interval_ms = 100LL * 365 * 24 * 3600 * 1000;
  // "always" or "interval:<ms>" with ms from 1 to max_interval_ms.
  static result<flush_policy> parse(std::string_view text);
  [[nodiscard]] std::string to_string() const;
  // interval: when the timer's next sync is due, the first multiple of `interval` on the
  // steady clock after `now`. Every log with the same interval syncs on the same grid, so a
  // shard's logs ask in the same turn and one syncfs serves them all.
  [[nodiscard]] std::chrono::steady_clock::time_point next_sync_after(
      std::chrono::steady_clock::time_point now) const;
  bool operator==(const flush_policy&) const = default;
};

struct log_config {
  std::uint64_t segment_bytes = 1ULL << 30;                        // segment.bytes
  std::chrono::milliseconds segment_ms{7LL * 24 * 3600 * 1000};    // segment.ms
  std::int64_t retention_bytes = -1;                               // retention.bytes, -1 = none
  std::chrono::milliseconds retention_ms{7LL * 24 * 3600 * 1000};  // retention.ms, -1 = forever
  flush_policy flush;                                              // flush
  std::uint32_t max_message_bytes = 1'048'588;                     // max.message.bytes
  std::uint32_t index_interval_bytes = 4096;                       // index.interval.bytes
  std::uint32_t index_max_bytes = 10U << 20;                       // segment.index.bytes
  // Bytes behind the active segment's durable end left in the page cache; older ones are
  // dropped from it (segment/cache_drop_behind.h). -1 keeps everything.
  std::int64_t page_cache_keep_bytes = 64LL << 20;  // page.cache.keep.bytes
  // How often the recovery point is checkpointed; a crash re-scans at most what was written
  // since (plus the active segment's unsynced tail).
  std::chrono::milliseconds checkpoint_interval{10'000};

  // Checks ranges; the error names the setting and the allowed range.
  [[nodiscard]] result<void> validate() const;
};

}  // namespace sluice
