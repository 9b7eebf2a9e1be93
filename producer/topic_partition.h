#pragma once
// A partition of a topic, as the producer's internals key their maps.

#include <cstdint>
#include <functional>
#include <string>

namespace sluice::producer_internal {

struct topic_partition {
  std::string topic;
  std::int32_t partition = 0;
  bool operator==(const topic_partition&) const = default;
};

struct topic_partition_hash {
  std::size_t operator()(const topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + static_cast<std::size_t>(tp.partition);
  }
};

}  // namespace sluice::producer_internal
