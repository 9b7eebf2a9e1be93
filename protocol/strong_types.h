#pragma once
// Strong types for numbers that are easy to confuse: an absolute log offset, an offset relative
// to a segment's base, a byte position in a file and a leader epoch cannot be passed for one
// another by accident.

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <functional>

namespace sluice {

template <class Tag, class Rep>
struct strong_number {
  using rep = Rep;
  Rep value{};

  constexpr strong_number() = default;
  constexpr explicit strong_number(Rep v) : value(v) {}
  constexpr auto operator<=>(const strong_number&) const = default;
};

struct offset_tag {};
struct relative_offset_tag {};
struct file_pos_tag {};
struct leader_epoch_tag {};

// Absolute offset of a record in a partition (Kafka's int64 offset).
using offset = strong_number<offset_tag, std::int64_t>;
// Offset minus the base offset of the segment holding it; what index entries store.
using relative_offset = strong_number<relative_offset_tag, std::uint32_t>;
// Byte position inside one segment's .log file.
using file_pos = strong_number<file_pos_tag, std::uint64_t>;
// Leader epoch stamped into each batch (PartitionLeaderEpoch).
using leader_epoch = strong_number<leader_epoch_tag, std::int32_t>;

constexpr offset operator+(offset o, std::int64_t n) {
  return offset{o.value + n};
}
constexpr std::int64_t operator-(offset a, offset b) {
  return a.value - b.value;
}
constexpr file_pos operator+(file_pos p, std::uint64_t n) {
  return file_pos{p.value + n};
}

}  // namespace sluice

template <class Tag, class Rep>
struct std::hash<sluice::strong_number<Tag, Rep>> {
  std::size_t operator()(const sluice::strong_number<Tag, Rep>& n) const noexcept {
    return std::hash<Rep>{}(n.value);
  }
};

template <class Tag, class Rep>
struct fmt::formatter<sluice::strong_number<Tag, Rep>> : fmt::formatter<Rep> {
  auto format(const sluice::strong_number<Tag, Rep>& n, fmt::format_context& ctx) const {
    return fmt::formatter<Rep>::format(n.value, ctx);
  }
};
