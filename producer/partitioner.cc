#include "producer/partitioner.h"

#include <string_view>

#include "producer/producer.h"
#include "protocol/result.h"

namespace sluice {

// Kafka's Utils.murmur2: MurmurHash2 (32-bit) with seed 0x9747b28c, reading the bytes
// little-endian four at a time, computed on unsigned ints (Java's int arithmetic wraps the same
// way).
std::int32_t murmur2(std::string_view data) {
  constexpr std::uint32_t seed = 0x9747b28c;
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto length = static_cast<std::uint32_t>(data.size());
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]));
  };
  std::uint32_t h = seed ^ length;
  const std::size_t whole = data.size() / 4 * 4;
  for (std::size_t i = 0; i < whole; i += 4) {
    std::uint32_t k = byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (data.size() % 4) {
    case 3:
      h ^= byte(whole + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte(whole + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte(whole);
      h *= m;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

std::int32_t partition_for_key(std::string_view key, std::int32_t partitions) {
  SLUICE_ASSERT(partitions > 0);
  // Kafka's Utils.toPositive: clear the sign bit (not abs(), which fails for INT_MIN).
  const std::int32_t positive = murmur2(key) & 0x7fffffff;
  return positive % partitions;
}

namespace producer_internal {

std::int32_t sticky_partitioner::choose(std::int32_t partitions, bool batch_still_open) {
  SLUICE_ASSERT(partitions > 0);
  if (current_ < 0 || current_ >= partitions || !batch_still_open) {
    current_ = static_cast<std::int32_t>(next_ % static_cast<std::uint32_t>(partitions));
    next_ = static_cast<std::uint32_t>(current_) + 1;
    batch_id_ = 0;
  }
  return current_;
}

}  // namespace producer_internal
}  // namespace sluice
