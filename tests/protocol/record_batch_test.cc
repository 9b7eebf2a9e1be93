#include "protocol/record_batch.h"

#include <doctest/doctest.h>

#include <string>

#include "protocol/errc.h"
#include "protocol/record.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

using test::batch_around;
using test::concat;
using test::poke;
using test::raw_record;
using test::restamp_crc;
using test::simple_batch;

// The error validate() gives for these bytes; fails the test if parse already refuses them.
error validation_error(const byte_buffer& batch) {
  const auto view = record_batch_view::parse(batch);
  REQUIRE(view);
  const auto r = view->validate();
  REQUIRE_FALSE(r);
  return r.error();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("a freshly built batch parses, has a matching CRC and validates") {
  const byte_buffer batch = simple_batch(5);
  const auto view = record_batch_view::parse(batch);
  REQUIRE(view);
  CHECK(view->bytes().size() == batch.size());
  CHECK(view->crc_matches());
  CHECK(view->computed_crc() == view->header().crc);
  CHECK(view->validate());
}

TEST_CASE("the view covers exactly one batch when more bytes follow") {
  const byte_buffer two = concat({simple_batch(2), simple_batch(3)});
  const auto view = record_batch_view::parse(two);
  REQUIRE(view);
  CHECK(view->bytes().size() == simple_batch(2).size());
  CHECK(view->validate());
}

TEST_CASE("a batch shorter than its length field says is batch_truncated, with both sizes") {
  const byte_buffer batch = simple_batch(2);
  const auto view = record_batch_view::parse(byte_span(batch).first(batch.size() - 1));
  REQUIRE_FALSE(view);
  CHECK(view.error().code == protocol_errc::batch_truncated);
  CHECK(view.error().detail == "batch at base offset 0 needs " + std::to_string(batch.size()) +
                                   " bytes, only " + std::to_string(batch.size() - 1) + " present");
}

TEST_CASE("a length field larger than the bytes present is batch_truncated") {
  byte_buffer batch = simple_batch(2);
  poke(batch, batch_length_offset, std::int32_t{1 << 20});
  CHECK(record_batch_view::parse(batch).error().code == protocol_errc::batch_truncated);
}

TEST_CASE("a length field too small for a header is bad_length") {
  byte_buffer batch = simple_batch(2);
  poke(batch, batch_length_offset, std::int32_t{10});
  CHECK(record_batch_view::parse(batch).error().code == protocol_errc::bad_length);
}

TEST_CASE("a wrong magic is refused by parse with bad_magic") {
  byte_buffer batch = simple_batch(2);
  poke(batch, magic_offset, std::int8_t{3});
  CHECK(record_batch_view::parse(batch).error().code == protocol_errc::bad_magic);
}

TEST_CASE("flipping any byte covered by the CRC makes validate fail with bad_crc") {
  const byte_buffer good = simple_batch(3, {.codec = compression::zstd});
  for (std::size_t at = crc_scope_start; at < good.size(); ++at) {
    CAPTURE(at);
    byte_buffer bad = good;
    bad[at] ^= std::byte{0x01};
    const auto view = record_batch_view::parse(bad);
    REQUIRE(view);
    CHECK_FALSE(view->crc_matches());
    CHECK(view->validate().error().code == protocol_errc::bad_crc);
  }
}

TEST_CASE("a bad_crc detail names the stored and the computed CRC") {
  byte_buffer batch = simple_batch(1);
  poke(batch, crc_offset, std::uint32_t{0xDEADBEEF});
  const error e = validation_error(batch);
  CHECK(e.code == protocol_errc::bad_crc);
  CHECK(contains(e.detail, "stored CRC 0xdeadbeef"));
  CHECK(contains(e.detail, fmt::format("computed {:#010x}",
                                       record_batch_view::parse(batch).value().computed_crc())));
}

TEST_CASE("stamping base offset and leader epoch keeps the CRC valid") {
  byte_buffer batch = simple_batch(3);
  set_base_offset(batch, offset{123'456'789'000});
  set_partition_leader_epoch(batch, leader_epoch{17});
  const auto view = record_batch_view::parse(batch);
  REQUIRE(view);
  CHECK(view->header().base_offset == offset{123'456'789'000});
  CHECK(view->header().partition_leader_epoch == leader_epoch{17});
  CHECK(view->header().last_offset() == offset{123'456'789'002});
  CHECK(view->validate());
}

TEST_CASE("records_count different from last_offset_delta + 1 is bad_record_count") {
  byte_buffer batch = simple_batch(3);
  poke(batch, records_count_offset, std::int32_t{4});
  restamp_crc(batch);
  const error e = validation_error(batch);
  CHECK(e.code == protocol_errc::bad_record_count);
  CHECK(e.detail ==
        "records_count is 4 but last_offset_delta is 2 (expected records_count = "
        "last_offset_delta + 1)");
}

TEST_CASE("a batch claiming zero records is bad_record_count") {
  byte_buffer batch = simple_batch(1);
  poke(batch, records_count_offset, std::int32_t{0});
  poke(batch, last_offset_delta_offset, std::int32_t{-1});
  restamp_crc(batch);
  CHECK(validation_error(batch).code == protocol_errc::bad_record_count);
}

TEST_CASE("record offset deltas 0,2 are bad_offset_delta, naming the record and delta") {
  const byte_buffer batch =
      batch_around(concat({raw_record(0, "a", "1"), raw_record(2, "b", "2")}), 2);
  const error e = validation_error(batch);
  CHECK(e.code == protocol_errc::bad_offset_delta);
  CHECK(e.detail == "record 1 has offset delta 2, expected 1");
}

TEST_CASE("fewer records in the stream than records_count is bad_record") {
  const byte_buffer batch = batch_around(raw_record(0, "a", "1"), 2);
  const error e = validation_error(batch);
  CHECK(e.code == protocol_errc::bad_record);
  CHECK(contains(e.detail, "record 1 at byte"));
}

TEST_CASE("bytes after the last record are bad_record") {
  const byte_buffer batch = batch_around(concat({raw_record(0, "a", "1"), {std::byte{0}}}), 1);
  const error e = validation_error(batch);
  CHECK(e.code == protocol_errc::bad_record);
  CHECK(e.detail == "1 bytes left over after the last of 1 records");
}

TEST_CASE("a record whose length disagrees with its fields is bad_record") {
  byte_buffer record = raw_record(0, "key", "value");
  record.push_back(std::byte{0});  // one byte the fields do not account for
  record[0] = static_cast<std::byte>(static_cast<int>(record[0]) + 2);  // zigzag: length + 1
  const error e = validation_error(batch_around(record, 1));
  CHECK(e.code == protocol_errc::bad_record);
  CHECK(contains(e.detail, "but its fields take"));
}

TEST_CASE("a key length past the end of its record is bad_record, naming the length") {
  byte_buffer record = raw_record(0, "key", "value");
  record[4] = std::byte{100};  // key length 50 (zigzag)
  const error e = validation_error(batch_around(record, 1));
  CHECK(e.code == protocol_errc::bad_record);
  CHECK(contains(e.detail, "key length 50 runs past the record"));
}

TEST_CASE("gzip, snappy and lz4 batches validate on header and CRC only") {
  for (auto codec : {compression::gzip, compression::snappy, compression::lz4}) {
    const byte_buffer batch = batch_around(test::to_buffer("not really compressed"), 1, codec);
    const auto view = record_batch_view::parse(batch);
    REQUIRE(view);
    CHECK(view->validate());
    CHECK(decode_records(*view).error().code == protocol_errc::unsupported_compression);
  }
}

TEST_CASE("an unknown codec is unsupported_compression") {
  const byte_buffer batch = batch_around(raw_record(0, "a", "b"), 1, compression{5});
  const error e = validation_error(batch);
  CHECK(e.code == protocol_errc::unsupported_compression);
  CHECK(contains(e.detail, "codec 5"));
}

TEST_CASE("a zstd batch whose payload is not zstd is decompression_failed") {
  const byte_buffer batch =
      batch_around(test::to_buffer("garbage, not a frame"), 1, compression::zstd);
  CHECK(validation_error(batch).code == protocol_errc::decompression_failed);
}

TEST_CASE("a zstd batch that inflates beyond the limit is decompression_failed") {
  record_batch_builder builder({.codec = compression::zstd});
  const byte_buffer big(1 << 20, std::byte{'x'});
  builder.add(0, std::nullopt, byte_span(big));
  const byte_buffer batch = builder.build();
  const auto view = record_batch_view::parse(batch);
  REQUIRE(view);
  CHECK(view->validate());
  CHECK(view->validate(64 * 1024).error().code == protocol_errc::decompression_failed);
}

TEST_CASE("check_batch_size refuses a batch above the maximum with batch_too_large") {
  const byte_buffer batch = simple_batch(10);
  const batch_header h = record_batch_view::parse(batch).value().header();
  CHECK(check_batch_size(h, batch.size()));
  CHECK(check_batch_size(h, batch.size() - 1).error().code == protocol_errc::batch_too_large);
}

}  // namespace
}  // namespace sluice
