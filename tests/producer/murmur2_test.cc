// murmur2 must give exactly Kafka's values: the same key then lands on the same partition as
// with the Java client, librdkafka or kafka-python.

#include <doctest/doctest.h>

#include "producer/producer.h"

namespace sluice {
namespace {

TEST_CASE("murmur2 matches Kafka's UtilsTest vectors") {
  CHECK(murmur2("21") == -973932308);
  CHECK(murmur2("foobar") == -790332482);
  CHECK(murmur2("a-little-bit-long-string") == -985981536);
  CHECK(murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(murmur2("abc") == 479470107);
}

TEST_CASE("murmur2 matches librdkafka's Java-compatible vector") {
  CHECK(static_cast<std::uint32_t>(murmur2("kafka")) == 0xd067cf64U);
}

TEST_CASE("murmur2 covers every tail length (0 to 3 bytes after the last 4-byte block)") {
  // Lengths 24..27 end in 0, 1, 2 and 3 tail bytes (values as published with kafkabr's tests,
  // computed with Kafka's Java murmur2).
  CHECK(murmur2("string-f-24-chars-length") == 124730809);
  CHECK(murmur2("string-fo-25-chars-length") == 1269511650);
  CHECK(murmur2("string-foo-26-chars-length") == 119165628);
  CHECK(murmur2("string-last-27-chars-length") == 1089971754);
}

}  // namespace
}  // namespace sluice
