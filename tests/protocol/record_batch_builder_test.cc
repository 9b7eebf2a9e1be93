#include "protocol/record_batch_builder.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

using test::poke;
using test::restamp_crc;
using test::to_buffer;
using test::to_string;

// Builds three records that exercise keys, a null key, a tombstone and headers (one null).
byte_buffer mixed_batch(record_batch_builder::options opts, offset base) {
  record_batch_builder builder(opts);
  const std::vector<record_header> headers = {{"trace", to_buffer("abc")}, {"empty", std::nullopt}};
  builder.add(1'700'000'000'000, as_bytes("k0"), as_bytes("v0"), headers);
  builder.add(1'700'000'000'500, std::nullopt, as_bytes("no key"));
  builder.add(1'699'999'999'000, as_bytes("k2"), std::nullopt);  // a tombstone, earlier clock
  return builder.build(base);
}

void check_mixed_records(const decoded_records& decoded, offset base) {
  const auto& r = decoded.records();
  REQUIRE(r.size() == 3);
  CHECK(r[0].offset == base);
  CHECK(r[0].timestamp == 1'700'000'000'000);
  CHECK(to_string(r[0].key) == "k0");
  CHECK(to_string(r[0].value) == "v0");
  REQUIRE(r[0].headers.size() == 2);
  CHECK(r[0].headers[0].key == "trace");
  CHECK(to_string(r[0].headers[0].value) == "abc");
  CHECK(r[0].headers[1].key == "empty");
  CHECK_FALSE(r[0].headers[1].value);
  CHECK(r[1].offset == base + 1);
  CHECK_FALSE(r[1].key);
  CHECK(to_string(r[1].value) == "no key");
  CHECK(r[1].headers.empty());
  CHECK(r[2].offset == base + 2);
  CHECK(r[2].timestamp == 1'699'999'999'000);
  CHECK(to_string(r[2].key) == "k2");
  CHECK_FALSE(r[2].value);
}

TEST_CASE("build, parse, validate and decode round-trip keys, null values and headers") {
  for (auto codec : {compression::none, compression::zstd}) {
    CAPTURE(static_cast<int>(codec));
    const byte_buffer batch = mixed_batch({.codec = codec}, offset{1000});
    const auto view = record_batch_view::parse(batch);
    REQUIRE(view);
    CHECK(view->header().codec() == codec);
    CHECK(view->header().records_count == 3);
    CHECK(view->header().base_timestamp == 1'700'000'000'000);
    CHECK(view->header().max_timestamp == 1'700'000'000'500);
    REQUIRE(view->validate());
    const auto decoded = decode_records(*view);
    REQUIRE(decoded);
    check_mixed_records(decoded.value(), offset{1000});
  }
}

TEST_CASE("the builder copies producer id, epoch and base sequence into the header") {
  const byte_buffer batch =
      mixed_batch({.producer_id = 9001, .producer_epoch = 3, .base_sequence = 77}, offset{0});
  const batch_header h = record_batch_view::parse(batch).value().header();
  CHECK(h.producer_id == 9001);
  CHECK(h.producer_epoch == 3);
  CHECK(h.base_sequence == 77);
  CHECK(h.partition_leader_epoch == leader_epoch{-1});
}

TEST_CASE("zstd makes a repetitive batch smaller than the uncompressed estimate") {
  record_batch_builder builder({.codec = compression::zstd, .zstd_level = 1});
  const std::string value(1000, 'z');
  for (int i = 0; i < 100; ++i) builder.add(i, std::nullopt, as_bytes(value));
  const std::size_t estimate = builder.estimated_size_bytes();
  const byte_buffer batch = builder.build();
  CHECK(batch.size() < estimate / 10);
  const auto view = record_batch_view::parse(batch);
  REQUIRE(view);
  CHECK(view->validate());
  CHECK(decode_records(*view).value().records().size() == 100);
}

TEST_CASE("an uncompressed batch is exactly estimated_size_bytes long") {
  record_batch_builder builder;
  builder.add(5, as_bytes("k"), as_bytes("v"));
  builder.add(6, as_bytes("k"), as_bytes("v"));
  const std::size_t estimate = builder.estimated_size_bytes();
  CHECK(builder.build().size() == estimate);
}

TEST_CASE("build empties the builder, which then builds the next batch from scratch") {
  record_batch_builder builder;
  CHECK(builder.empty());
  builder.add(1, std::nullopt, as_bytes("a"));
  builder.add(2, std::nullopt, as_bytes("b"));
  CHECK(builder.record_count() == 2);
  (void)builder.build();
  CHECK(builder.empty());
  CHECK(builder.record_count() == 0);
  builder.add(50, std::nullopt, as_bytes("c"));
  const byte_buffer second = builder.build(offset{2});
  const auto view = record_batch_view::parse(second);
  CHECK(view->header().records_count == 1);
  CHECK(view->header().base_timestamp == 50);
  CHECK(decode_records(*view).value().records()[0].offset == offset{2});
}

TEST_CASE("records of a LogAppendTime batch all carry the max timestamp") {
  byte_buffer batch = mixed_batch({}, offset{0});
  poke(batch, attributes_offset, timestamp_type_mask);
  poke(batch, max_timestamp_offset, std::int64_t{42});
  restamp_crc(batch);
  const auto view = record_batch_view::parse(batch);
  REQUIRE(view->validate());
  const decoded_records decoded = decode_records(view.value()).value();
  for (const record_view& r : decoded.records()) CHECK(r.timestamp == 42);
}

TEST_CASE("decoded records stay valid after the decoded_records object moves") {
  const byte_buffer batch = mixed_batch({.codec = compression::zstd}, offset{7});
  const auto view = record_batch_view::parse(batch);
  auto decoded = decode_records(*view);
  REQUIRE(decoded);
  const decoded_records moved = std::move(decoded).value();
  check_mixed_records(moved, offset{7});
}

TEST_CASE("empty keys and values are distinct from null ones") {
  record_batch_builder builder;
  builder.add(0, as_bytes(""), as_bytes(""), std::vector<record_header>{{"", to_buffer("")}});
  const byte_buffer batch = builder.build();
  const decoded_records decoded = decode_records(record_batch_view::parse(batch).value()).value();
  const record_view& r = decoded.records().at(0);
  REQUIRE(r.key);
  CHECK(r.key->empty());
  REQUIRE(r.value);
  CHECK(r.value->empty());
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].key.empty());
  REQUIRE(r.headers[0].value);
  CHECK(r.headers[0].value->empty());
}

}  // namespace
}  // namespace sluice
