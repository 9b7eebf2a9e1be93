#include <doctest/doctest.h>

#include "protocol/errc.h"
#include "protocol/record_batch.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

using test::concat;
using test::poke;
using test::simple_batch;

TEST_CASE("batch_reader returns back-to-back batches one at a time, then nothing") {
  const byte_buffer buffer = concat({simple_batch(1, {}, offset{0}), simple_batch(2, {}, offset{1}),
                                     simple_batch(3, {}, offset{3})});
  batch_reader reader(buffer);
  std::vector<offset> bases;
  for (;;) {
    auto next = reader.next();
    REQUIRE(next);
    if (!next.value()) break;
    bases.push_back(next.value()->header().base_offset);
  }
  CHECK(bases == std::vector<offset>{offset{0}, offset{1}, offset{3}});
  CHECK(reader.position() == buffer.size());
  CHECK(reader.remaining_bytes() == 0);
}

TEST_CASE("batch_reader stops at a trailing partial batch and reports its size") {
  const byte_buffer whole = simple_batch(2);
  const byte_buffer partial = simple_batch(5);
  for (std::size_t keep :
       {std::size_t{1}, std::size_t{16}, std::size_t{17}, std::size_t{61}, partial.size() - 1}) {
    CAPTURE(keep);
    byte_buffer buffer = whole;
    buffer.insert(buffer.end(), partial.begin(),
                  partial.begin() + static_cast<std::ptrdiff_t>(keep));
    batch_reader reader(buffer);
    REQUIRE(reader.next().value().has_value());
    CHECK_FALSE(reader.next().value().has_value());
    CHECK(reader.position() == whole.size());
    CHECK(reader.remaining_bytes() == keep);
  }
}

TEST_CASE("batch_reader fails without advancing on bytes that are not a batch") {
  byte_buffer second = simple_batch(1);
  poke(second, magic_offset, std::int8_t{1});
  const byte_buffer buffer = concat({simple_batch(1), second});
  batch_reader reader(buffer);
  REQUIRE(reader.next().value().has_value());
  const auto bad = reader.next();
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == protocol_errc::bad_magic);
  CHECK(reader.position() == simple_batch(1).size());
}

TEST_CASE("batch_reader over an empty buffer returns nothing") {
  batch_reader reader{byte_span{}};
  CHECK_FALSE(reader.next().value().has_value());
  CHECK(reader.remaining_bytes() == 0);
}

}  // namespace
}  // namespace sluice
