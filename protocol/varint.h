#pragma once
// Kafka's varint (int32) and varlong (int64): zigzag-encoded like protobuf's sint32/sint64, then
// written 7 bits at a time, least significant group first, high bit set on all but the last byte.
// Used for every length and delta inside a RecordBatch v2 record.

#include <cstdint>
#include <optional>

#include "protocol/bytes.h"

namespace sluice {

// A decoded value and the number of bytes it took.
template <class T>
struct decoded_varint {
  T value;
  std::size_t size;
};

inline constexpr std::size_t max_varint_size = 5;
inline constexpr std::size_t max_varlong_size = 10;

namespace detail {

[[nodiscard]] constexpr std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

[[nodiscard]] constexpr std::int64_t unzigzag(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1u);
}

[[nodiscard]] constexpr std::size_t unsigned_varint_size(std::uint64_t u) {
  std::size_t n = 1;
  for (; u >= 0x80u; u >>= 7) ++n;
  return n;
}

inline void put_unsigned_varint(byte_buffer& out, std::uint64_t u) {
  for (; u >= 0x80u; u >>= 7) out.push_back(static_cast<std::byte>((u & 0x7Fu) | 0x80u));
  out.push_back(static_cast<std::byte>(u));
}

// Reads at most max_size bytes; nullopt when the input ends first, the encoding is longer than
// max_size, or the value needs more than value_bits bits (only corrupt input does that).
[[nodiscard]] inline std::optional<decoded_varint<std::uint64_t>> get_unsigned_varint(
    byte_span in, std::size_t max_size, unsigned value_bits) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < in.size() && i < max_size; ++i) {
    const auto b = std::to_integer<std::uint64_t>(in[i]);
    const unsigned shift = static_cast<unsigned>(7 * i);
    if (value_bits - shift < 7 && (b & 0x7Fu) >> (value_bits - shift) != 0) return std::nullopt;
    u |= (b & 0x7Fu) << shift;
    if ((b & 0x80u) == 0) return decoded_varint<std::uint64_t>{u, i + 1};
  }
  return std::nullopt;
}

}  // namespace detail

[[nodiscard]] constexpr std::size_t size_of_varint(std::int32_t v) {
  return detail::unsigned_varint_size(detail::zigzag(v));
}

[[nodiscard]] constexpr std::size_t size_of_varlong(std::int64_t v) {
  return detail::unsigned_varint_size(detail::zigzag(v));
}

// Appends v to out (1..5 bytes).
inline void encode_varint(byte_buffer& out, std::int32_t v) {
  detail::put_unsigned_varint(out, detail::zigzag(v));
}

// Appends v to out (1..10 bytes).
inline void encode_varlong(byte_buffer& out, std::int64_t v) {
  detail::put_unsigned_varint(out, detail::zigzag(v));
}

// Writes v at p (size_of_varlong(v) bytes, also for an int32 varint) and returns the end.
// REQUIRES: room for them.
inline std::byte* write_varlong(std::byte* p, std::int64_t v) {
  auto u = detail::zigzag(v);
  for (; u >= 0x80u; u >>= 7) *p++ = static_cast<std::byte>((u & 0x7Fu) | 0x80u);
  *p++ = static_cast<std::byte>(u);
  return p;
}

// Decodes a varint at the start of in; nullopt if in ends first or the bytes are not a valid
// int32 varint (more than 5 bytes, or bits beyond 32).
[[nodiscard]] inline std::optional<decoded_varint<std::int32_t>> decode_varint(byte_span in) {
  const auto u = detail::get_unsigned_varint(in, max_varint_size, 32);
  if (!u) return std::nullopt;
  return decoded_varint<std::int32_t>{static_cast<std::int32_t>(detail::unzigzag(u->value)),
                                      u->size};
}

// Decodes a varlong at the start of in; nullopt if in ends first or the encoding is invalid.
[[nodiscard]] inline std::optional<decoded_varint<std::int64_t>> decode_varlong(byte_span in) {
  const auto u = detail::get_unsigned_varint(in, max_varlong_size, 64);
  if (!u) return std::nullopt;
  return decoded_varint<std::int64_t>{detail::unzigzag(u->value), u->size};
}

}  // namespace sluice
