#pragma once
// Open file descriptors as a budget topic creation must fit in. Every partition holds three
// for its active segment (.log, .index, .timeindex) and one per older segment; every connection
// holds one. A broker that runs out can no longer roll a segment or accept a connection, for any
// topic, so a creation that would use up the limit is refused before anything is made, saying
// how far it is over.

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/result.h"

namespace sluice {

struct descriptor_use {
  std::uint64_t open = 0;
  std::uint64_t limit = 0;  // the soft RLIMIT_NOFILE
};

// This process's, or nothing when it cannot be told (no /proc, or no limit).
[[nodiscard]] std::optional<descriptor_use> current_descriptor_use();

inline constexpr std::uint64_t descriptors_per_new_partition = 3;

// What a creation must leave free for connections and segment rolls: a tenth of the limit, at
// most 1024.
[[nodiscard]] std::uint64_t descriptor_headroom(std::uint64_t limit);

// Refuses (invalid_partition_count) a topic of `partitions` new partitions that would leave less
// than the headroom free.
[[nodiscard]] result<void> check_descriptors_for(std::string_view topic, std::int32_t partitions,
                                                 const descriptor_use& use);

}  // namespace sluice
