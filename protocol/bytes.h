#pragma once
// Byte spans and big-endian integer access: the vocabulary every codec in protocol/ shares.
// Kafka's wire and disk formats are big-endian throughout.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sluice {

using byte_span = std::span<const std::byte>;
using mutable_byte_span = std::span<std::byte>;
using byte_buffer = std::vector<std::byte>;

// Views the characters of s as bytes; lives as long as the characters do.
[[nodiscard]] inline byte_span as_bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Views bytes as characters (no UTF-8 check); lives as long as the bytes do.
[[nodiscard]] inline std::string_view as_string_view(byte_span b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

namespace detail {

// std::byteswap is C++23; this is the same on the unsigned representation.
template <std::integral T>
[[nodiscard]] constexpr T to_from_big_endian(T v) {
  if constexpr (sizeof(T) == 1 || std::endian::native == std::endian::big) {
    return v;
  } else {
    using U = std::make_unsigned_t<T>;
    auto u = static_cast<U>(v);
    if constexpr (sizeof(T) == 2) u = __builtin_bswap16(u);
    if constexpr (sizeof(T) == 4) u = __builtin_bswap32(u);
    if constexpr (sizeof(T) == 8) u = __builtin_bswap64(u);
    return static_cast<T>(u);
  }
}

}  // namespace detail

// Reads an integral T stored big-endian at p. REQUIRES: sizeof(T) readable bytes at p.
template <std::integral T>
[[nodiscard]] T load_be(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return detail::to_from_big_endian(v);
}

// Writes v big-endian at p. REQUIRES: sizeof(T) writable bytes at p.
template <std::integral T>
void store_be(std::byte* p, T v) {
  v = detail::to_from_big_endian(v);
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace sluice
