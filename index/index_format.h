#pragma once
// The on-disk formats of the sparse indexes, byte for byte Kafka's (kafka-compat.md 3.2).
// Both files are arrays of fixed-size big-endian entries, no header, no checksum.
//
// <base>.index — one entry per ~index.interval.bytes of log:
//   offset  size  field
//   0       4     relative offset   u32 BE  (offset - segment base offset)
//   4       4     position          u32 BE  (byte position of the batch in <base>.log)
//
// <base>.timeindex — one entry per new maximum timestamp (at most one per index interval):
//   offset  size  field
//   0       8     timestamp         i64 BE  (largest timestamp up to and including the offset)
//   8       4     relative offset   u32 BE  (offset - segment base offset)
//
// Files are preallocated (ftruncate) to the max size and trimmed to the used size on roll and
// close. An untrimmed file ends with zero bytes; since a real offset-index entry is never all
// zero (the first batch of a segment never gets an entry), the first all-zero entry marks the
// end of the entries after a crash.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace sluice::index_format {

inline constexpr std::size_t offset_entry_size = 8;
inline constexpr std::size_t time_entry_size = 12;
// segment.index.bytes default.
inline constexpr std::size_t default_max_bytes = std::size_t{10} << 20;
// Kafka's RecordBatch.NO_TIMESTAMP: a batch without timestamps never gets a time-index entry.
inline constexpr std::int64_t no_timestamp = -1;
// Largest relative offset or position an entry can hold.
inline constexpr std::uint64_t max_u32 = std::numeric_limits<std::uint32_t>::max();

// Big-endian loads and stores, kept here so the index does not depend on the protocol codec.
inline void store_be32(std::byte* p, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) p[i] = std::byte(v >> (24 - 8 * i));
}
inline void store_be64(std::byte* p, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) p[i] = std::byte(v >> (56 - 8 * i));
}
[[nodiscard]] inline std::uint32_t load_be32(const std::byte* p) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
[[nodiscard]] inline std::uint64_t load_be64(const std::byte* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

// One .index entry as stored (relative offset, position).
struct offset_entry_bytes {
  std::uint32_t relative_offset;
  std::uint32_t position;
};
// One .timeindex entry as stored (timestamp, relative offset).
struct time_entry_bytes {
  std::int64_t timestamp;
  std::uint32_t relative_offset;
};

[[nodiscard]] inline std::array<std::byte, offset_entry_size> encode(offset_entry_bytes e) {
  std::array<std::byte, offset_entry_size> out{};
  store_be32(out.data(), e.relative_offset);
  store_be32(out.data() + 4, e.position);
  return out;
}
[[nodiscard]] inline std::array<std::byte, time_entry_size> encode(time_entry_bytes e) {
  std::array<std::byte, time_entry_size> out{};
  store_be64(out.data(), static_cast<std::uint64_t>(e.timestamp));
  store_be32(out.data() + 8, e.relative_offset);
  return out;
}
// REQUIRES: p points at offset_entry_size readable bytes.
[[nodiscard]] inline offset_entry_bytes decode_offset_entry(const std::byte* p) {
  return {load_be32(p), load_be32(p + 4)};
}
// REQUIRES: p points at time_entry_size readable bytes.
[[nodiscard]] inline time_entry_bytes decode_time_entry(const std::byte* p) {
  return {static_cast<std::int64_t>(load_be64(p)), load_be32(p + 8)};
}

}  // namespace sluice::index_format
