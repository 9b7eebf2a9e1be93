#pragma once
// Record values for `sluice perf`: random printable bytes, generated once and sliced at a
// different offset for each record (so zstd sees text-like data, not one repeated value), and
// for e2e the send time stamped into the value's first 8 bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::cli {

// Bytes a value needs to carry a send time (perf e2e's smallest --record-size).
inline constexpr std::size_t send_time_bytes = 8;

class payload_source {
 public:
  explicit payload_source(std::size_t record_size, std::uint64_t seed = 0x5eed);

  // The value of record number n: record_size bytes.
  [[nodiscard]] std::string value(std::uint64_t n) const;
  // The same into `out`, reusing its memory (no allocation once it has held one value).
  void fill(std::uint64_t n, std::string& out) const;

 private:
  static constexpr std::size_t slice_offsets = 1021;  // prime: consecutive slices all differ
  std::size_t record_size_;
  std::string pool_;
};

// Writes ns into value's first 8 bytes (REQUIRES: value.size() >= send_time_bytes).
void stamp_send_time(std::string& value, std::int64_t ns);
// The time stamp_send_time wrote; nullopt for a shorter value.
[[nodiscard]] std::optional<std::int64_t> read_send_time(std::string_view value);

}  // namespace sluice::cli
