// Robustness: whatever bytes arrive, parsing, validating and decoding return an error or a
// result; they never crash, read out of bounds or allocate without bound (run under ASan).

#include <doctest/doctest.h>

#include <random>

#include "protocol/errc.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

// Parses, validates and decodes; returns whether validation accepted the bytes.
bool exercise(byte_span bytes) {
  const auto view = record_batch_view::parse(bytes);
  if (!view) return false;
  (void)view.value().computed_crc();
  const bool valid = view.value().validate(1 << 20).has_value();
  const auto decoded = decode_records(view.value(), 1 << 20);
  if (valid && view.value().header().codec() == compression::none) CHECK(decoded.has_value());
  return valid;
}

byte_buffer mutate(byte_buffer batch, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    batch[rng() % batch.size()] = static_cast<std::byte>(rng());
  }
  if (rng() % 4 == 0) batch.resize(rng() % batch.size());
  return batch;
}

TEST_CASE("random corruption of a batch never crashes parse, validate or decode") {
  std::mt19937 rng(2024);
  for (auto codec : {compression::none, compression::zstd}) {
    const byte_buffer good = test::simple_batch(20, {.codec = codec});
    REQUIRE(exercise(good));
    for (int round = 0; round < 3000; ++round) (void)exercise(mutate(good, rng));
  }
}

TEST_CASE("corruption behind a restamped CRC never crashes validate or decode") {
  // With the CRC fixed up, the corrupt bytes reach the record decoder itself.
  std::mt19937 rng(99);
  const byte_buffer good = test::simple_batch(20);
  for (int round = 0; round < 3000; ++round) {
    byte_buffer bad = good;
    for (int i = 0; i < 3; ++i) {
      bad[batch_header_size + rng() % (bad.size() - batch_header_size)] =
          static_cast<std::byte>(rng());
    }
    test::restamp_crc(bad);
    (void)exercise(bad);
  }
}

TEST_CASE("every truncation of a batch is batch_truncated, never a crash") {
  const byte_buffer good = test::simple_batch(3, {.codec = compression::zstd});
  for (std::size_t n = 0; n < good.size(); ++n) {
    const auto view = record_batch_view::parse(byte_span(good).first(n));
    REQUIRE_FALSE(view);
    CHECK(view.error().code == make_error_code(protocol_errc::batch_truncated));
  }
}

}  // namespace
}  // namespace sluice
