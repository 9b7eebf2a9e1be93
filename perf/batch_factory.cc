#include "perf/batch_factory.h"

#include <random>

#include "protocol/record_batch_builder.h"

namespace sluice::bench {
namespace {

constexpr std::int64_t first_timestamp = 1'700'000'000'000;
// A record's framing around its value: attributes, length, timestamp and offset deltas, key and
// value lengths, header count. An upper bound for values below 2^21 bytes.
constexpr std::size_t record_overhead = 16;

void fill_random(byte_buffer& value, std::mt19937_64& rng) {
  for (auto& b : value) b = static_cast<std::byte>(rng() >> 56);
}

prebuilt_batch make_batch(const batch_shape& shape, std::mt19937_64& rng) {
  record_batch_builder builder;
  byte_buffer value(shape.record_size);
  std::size_t records = 0;
  do {
    fill_random(value, rng);
    builder.add(first_timestamp + static_cast<std::int64_t>(records), std::nullopt, value);
    ++records;
  } while (builder.estimated_size_bytes() + shape.record_size + record_overhead <=
           shape.batch_bytes);
  return {builder.build(), records};
}

}  // namespace

std::vector<prebuilt_batch> make_batches(const batch_shape& shape, std::size_t count,
                                         std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<prebuilt_batch> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(make_batch(shape, rng));
  return out;
}

}  // namespace sluice::bench
