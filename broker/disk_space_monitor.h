#pragma once
// The free-space floor: appends are refused with not_enough_space while the data directory's
// filesystem has less than `min_free_bytes` free, so a full disk never tears a batch and reads,
// admin requests and retention keep working. statvfs runs at most every `refresh` on whichever
// thread asks; the answer is shared by all shards. Between two statvfs calls every accepted
// append's bytes are taken off the cached figure, so a fast producer cannot write past the floor
// (and fill the disk) in the time between them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>

#include "protocol/result.h"

namespace sluice {

class disk_space_monitor {
 public:
  disk_space_monitor(std::filesystem::path dir, std::uint64_t min_free_bytes,
                     std::chrono::milliseconds refresh = std::chrono::milliseconds(500))
      : dir_(std::move(dir)), min_free_(min_free_bytes), refresh_(refresh) {}

  // not_enough_space (broker_errc) with the free and required bytes when below the floor;
  // otherwise counts `bytes` as used until the next statvfs.
  [[nodiscard]] result<void> check_appendable(std::uint64_t bytes);

 private:
  std::filesystem::path dir_;
  std::uint64_t min_free_;
  std::chrono::milliseconds refresh_;
  // When statvfs last ran; `never` makes the first call run it whatever the clock reads (the
  // steady clock starts at boot, so "0" was less than one refresh ago on a fresh machine).
  static constexpr std::int64_t never = INT64_MIN;
  std::atomic<std::int64_t> checked_at_ns_{never};
  std::atomic<std::uint64_t> free_bytes_{UINT64_MAX};
};

}  // namespace sluice
