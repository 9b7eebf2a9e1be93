#include "protocol/batch_header.h"

#include <doctest/doctest.h>

#include "protocol/errc.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

using test::peek;
using test::poke;
using test::simple_batch;

TEST_CASE("parse_batch_header reads every field a builder wrote") {
  const byte_buffer batch =
      simple_batch(3, {.producer_id = 42, .producer_epoch = 7, .base_sequence = 100}, offset{500});
  const auto h = parse_batch_header(batch);
  REQUIRE(h);
  CHECK(h->base_offset == offset{500});
  CHECK(h->size_bytes() == batch.size());
  CHECK(h->batch_length == static_cast<std::int32_t>(batch.size() - log_overhead));
  CHECK(h->partition_leader_epoch == leader_epoch{-1});
  CHECK(h->magic == 2);
  CHECK(h->crc == peek<std::uint32_t>(batch, crc_offset));
  CHECK(h->codec() == compression::none);
  CHECK(h->last_offset_delta == 2);
  CHECK(h->base_timestamp == 1000);
  CHECK(h->max_timestamp == 1002);
  CHECK(h->producer_id == 42);
  CHECK(h->producer_epoch == 7);
  CHECK(h->base_sequence == 100);
  CHECK(h->records_count == 3);
  CHECK(h->last_offset() == offset{502});
  CHECK(h->next_offset() == offset{503});
}

TEST_CASE("attribute bits answer codec, control, transactional and timestamp type") {
  byte_buffer batch = simple_batch(1);
  poke(batch, attributes_offset, std::int16_t{0x04 | 0x08 | 0x10 | 0x20});
  const auto h = parse_batch_header(batch);
  REQUIRE(h);
  CHECK(h->codec() == compression::zstd);
  CHECK(h->log_append_time());
  CHECK(h->is_transactional());
  CHECK(h->is_control());
  const auto plain = parse_batch_header(simple_batch(1));
  CHECK_FALSE(plain->log_append_time());
  CHECK_FALSE(plain->is_transactional());
  CHECK_FALSE(plain->is_control());
}

TEST_CASE("a header shorter than 61 bytes is batch_truncated") {
  const byte_buffer batch = simple_batch(1);
  const auto h = parse_batch_header(byte_span(batch).first(60));
  REQUIRE_FALSE(h);
  CHECK(h.error().code == protocol_errc::batch_truncated);
  CHECK(h.error().detail == "batch header needs 61 bytes, only 60 present");
}

TEST_CASE("a magic other than 2 is bad_magic, naming the magic found") {
  byte_buffer batch = simple_batch(1);
  poke(batch, magic_offset, std::int8_t{1});
  const auto h = parse_batch_header(batch);
  REQUIRE_FALSE(h);
  CHECK(h.error().code == protocol_errc::bad_magic);
  CHECK(h.error().detail == "batch magic is 1, only 2 is supported");
}

TEST_CASE("a batch length below 49 is bad_length, naming the length found") {
  byte_buffer batch = simple_batch(1);
  poke(batch, batch_length_offset, std::int32_t{48});
  const auto h = parse_batch_header(batch);
  REQUIRE_FALSE(h);
  CHECK(h.error().code == protocol_errc::bad_length);
  CHECK(h.error().detail == "batch length 48 is below the minimum 49");
}

TEST_CASE("peek_batch_prefix frames a batch from its first 17 bytes") {
  const byte_buffer batch = simple_batch(2, {}, offset{77});
  const auto p = peek_batch_prefix(byte_span(batch).first(batch_prefix_size));
  REQUIRE(p);
  CHECK(p->base_offset == offset{77});
  CHECK(p->size_bytes() == batch.size());
  CHECK(p->magic == 2);
}

TEST_CASE("peek_batch_prefix on fewer than 17 bytes is batch_truncated (a torn tail)") {
  const byte_buffer batch = simple_batch(1);
  const auto p = peek_batch_prefix(byte_span(batch).first(16));
  REQUIRE_FALSE(p);
  CHECK(p.error().code == protocol_errc::batch_truncated);
}

TEST_CASE("peek_batch_prefix refuses a bad magic or length like the full parse") {
  byte_buffer batch = simple_batch(1);
  poke(batch, magic_offset, std::int8_t{0});
  CHECK(peek_batch_prefix(batch).error().code == protocol_errc::bad_magic);
  poke(batch, magic_offset, std::int8_t{2});
  poke(batch, batch_length_offset, std::int32_t{-5});
  CHECK(peek_batch_prefix(batch).error().code == protocol_errc::bad_length);
}

TEST_CASE("protocol errors carry the sluice.protocol category and a readable message") {
  const boost::system::error_code ec = protocol_errc::bad_crc;
  CHECK(std::string(ec.category().name()) == "sluice.protocol");
  CHECK(ec.message() == "record batch CRC mismatch");
  const error e = make_error(protocol_errc::bad_magic, "batch magic is 1, only 2 is supported");
  CHECK(e.message() == "batch magic is 1, only 2 is supported (unsupported record batch magic)");
}

}  // namespace
}  // namespace sluice
