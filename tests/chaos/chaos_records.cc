#include "tests/chaos/chaos_records.h"

#include <fmt/format.h>

#include <charconv>

namespace sluice::chaos {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

std::uint64_t hash_of(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string key_of(record_id id) {
  return fmt::format("p{}-s{}", id.producer, id.seq);
}

std::optional<record_id> parse_key(std::string_view key) {
  if (key.size() < 5 || key[0] != 'p') return std::nullopt;
  record_id id;
  const char* end = key.data() + key.size();
  auto [p_end, p_ec] = std::from_chars(key.data() + 1, end, id.producer);
  if (p_ec != std::errc() || end - p_end < 3 || p_end[0] != '-' || p_end[1] != 's') {
    return std::nullopt;
  }
  auto [s_end, s_ec] = std::from_chars(p_end + 2, end, id.seq);
  if (s_ec != std::errc() || s_end != end || id.producer > 0xffff) return std::nullopt;
  return id;
}

std::string value_of(std::uint64_t seed, record_id id) {
  std::uint64_t state = mix(seed ^ mix(id.packed()));
  const std::size_t size = 16 + state % 1025;
  std::string value(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    state = mix(state);
    for (std::size_t j = 0; j < 8 && i + j < size; ++j) {
      value[i + j] = static_cast<char>(state >> (8 * j));
    }
  }
  return value;
}

}  // namespace sluice::chaos
