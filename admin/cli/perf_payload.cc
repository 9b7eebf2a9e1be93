#include "admin/cli/perf_payload.h"

#include <cstring>
#include <random>

#include "protocol/result.h"

namespace sluice::cli {

payload_source::payload_source(std::size_t record_size, std::uint64_t seed)
    : record_size_(record_size) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> printable(' ', '~');
  pool_.resize(record_size + slice_offsets);
  for (auto& c : pool_) c = static_cast<char>(printable(rng));
}

std::string payload_source::value(std::uint64_t n) const {
  std::string out;
  fill(n, out);
  return out;
}

void payload_source::fill(std::uint64_t n, std::string& out) const {
  out.assign(pool_, static_cast<std::size_t>(n % slice_offsets), record_size_);
}

void stamp_send_time(std::string& value, std::int64_t ns) {
  SLUICE_ASSERT(value.size() >= send_time_bytes);
  std::memcpy(value.data(), &ns, send_time_bytes);
}

std::optional<std::int64_t> read_send_time(std::string_view value) {
  if (value.size() < send_time_bytes) return std::nullopt;
  std::int64_t ns = 0;
  std::memcpy(&ns, value.data(), send_time_bytes);
  return ns;
}

}  // namespace sluice::cli
