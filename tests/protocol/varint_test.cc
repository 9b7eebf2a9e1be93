#include "protocol/varint.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace sluice {
namespace {

byte_buffer bytes(std::initializer_list<int> values) {
  byte_buffer out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

byte_buffer varint(std::int32_t v) {
  byte_buffer out;
  encode_varint(out, v);
  return out;
}

TEST_CASE("varints are zigzag encoded, 7 bits a byte, low group first") {
  CHECK(varint(0) == bytes({0x00}));
  CHECK(varint(-1) == bytes({0x01}));
  CHECK(varint(1) == bytes({0x02}));
  CHECK(varint(63) == bytes({0x7E}));
  CHECK(varint(-64) == bytes({0x7F}));
  CHECK(varint(64) == bytes({0x80, 0x01}));
  CHECK(varint(300) == bytes({0xD8, 0x04}));
  CHECK(varint(std::numeric_limits<std::int32_t>::max()) == bytes({0xFE, 0xFF, 0xFF, 0xFF, 0x0F}));
  CHECK(varint(std::numeric_limits<std::int32_t>::min()) == bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
}

TEST_CASE("varint and varlong round-trip and size_of predicts the encoded size") {
  const std::vector<std::int64_t> values = {0,
                                            1,
                                            -1,
                                            63,
                                            -64,
                                            64,
                                            8191,
                                            -8192,
                                            1 << 20,
                                            std::numeric_limits<std::int32_t>::max(),
                                            std::numeric_limits<std::int32_t>::min(),
                                            std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::min()};
  for (std::int64_t v : values) {
    CAPTURE(v);
    byte_buffer out;
    encode_varlong(out, v);
    CHECK(out.size() == size_of_varlong(v));
    const auto decoded = decode_varlong(out);
    REQUIRE(decoded);
    CHECK(decoded->value == v);
    CHECK(decoded->size == out.size());
    if (v < std::numeric_limits<std::int32_t>::min() ||
        v > std::numeric_limits<std::int32_t>::max()) {
      continue;
    }
    const auto v32 = static_cast<std::int32_t>(v);
    CHECK(varint(v32).size() == size_of_varint(v32));
    CHECK(decode_varint(varint(v32))->value == v32);
  }
}

TEST_CASE("decoding stops after the varint and ignores what follows") {
  const auto decoded = decode_varint(bytes({0xD8, 0x04, 0xFF, 0xFF}));
  REQUIRE(decoded);
  CHECK(decoded->value == 300);
  CHECK(decoded->size == 2);
}

TEST_CASE("a varint cut off before its last byte does not decode") {
  CHECK_FALSE(decode_varint(byte_span{}));
  CHECK_FALSE(decode_varint(bytes({0x80})));
  CHECK_FALSE(decode_varlong(bytes({0xFF, 0xFF, 0xFF})));
}

TEST_CASE("a varint longer than 5 bytes or wider than 32 bits does not decode") {
  CHECK_FALSE(decode_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00})));
  CHECK_FALSE(decode_varint(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x1F})));
  CHECK(decode_varint(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F})));
}

TEST_CASE("a varlong longer than 10 bytes or wider than 64 bits does not decode") {
  CHECK_FALSE(
      decode_varlong(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})));
  CHECK_FALSE(decode_varlong(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x03})));
  CHECK(decode_varlong(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})));
}

}  // namespace
}  // namespace sluice
