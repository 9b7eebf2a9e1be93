#pragma once
// Records of the chaos harness say who they are. Producer `p` numbers its records s = 0, 1, 2,
// ...; record (p, s) has
//   key   "p<p>-s<s>"
//   value value_of(seed, id): 16-1040 bytes, every byte derived from (run seed, p, s)
// so every record read back is recognised by its key, checked byte for byte against what was
// sent, and a record stored twice is seen twice. A hash of the value (FNV-1a) is what the
// ledger keeps for each acknowledged record.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::chaos {

struct record_id {
  std::uint32_t producer = 0;
  std::uint64_t seq = 0;

  // One number per record, for maps: producer in the top 16 bits.
  [[nodiscard]] std::uint64_t packed() const { return (std::uint64_t{producer} << 48U) | seq; }
  [[nodiscard]] static record_id unpack(std::uint64_t v) {
    return {static_cast<std::uint32_t>(v >> 48U), v & ((std::uint64_t{1} << 48U) - 1)};
  }
  bool operator==(const record_id&) const = default;
};

[[nodiscard]] std::uint64_t mix(std::uint64_t x);  // splitmix64
[[nodiscard]] std::uint64_t hash_of(std::string_view bytes);

[[nodiscard]] std::string key_of(record_id id);
// The id a key_of() key names; nullopt for anything else.
[[nodiscard]] std::optional<record_id> parse_key(std::string_view key);
[[nodiscard]] std::string value_of(std::uint64_t seed, record_id id);

}  // namespace sluice::chaos
