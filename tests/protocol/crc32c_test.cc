#include "protocol/crc32c.h"

#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "protocol/bytes.h"

namespace sluice {
namespace {

byte_buffer filled(std::size_t n, std::byte value) {
  return byte_buffer(n, value);
}

byte_buffer random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  byte_buffer out(n);
  for (std::byte& b : out) b = static_cast<std::byte>(rng());
  return out;
}

TEST_CASE("crc32c of \"123456789\" is the Castagnoli check value 0xE3069283") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c_portable_extend(0, as_bytes("123456789")) == 0xE3069283u);
}

TEST_CASE("crc32c matches the RFC 3720 (iSCSI) test vectors") {
  byte_buffer ascending(32);
  byte_buffer descending(32);
  for (std::size_t i = 0; i < 32; ++i) {
    ascending[i] = static_cast<std::byte>(i);
    descending[i] = static_cast<std::byte>(31 - i);
  }
  CHECK(crc32c(filled(32, std::byte{0})) == 0x8A9136AAu);
  CHECK(crc32c(filled(32, std::byte{0xFF})) == 0x62A8AB43u);
  CHECK(crc32c(ascending) == 0x46DD794Eu);
  CHECK(crc32c(descending) == 0x113FDB5Cu);
}

TEST_CASE("crc32c of nothing is 0 and extending by nothing changes nothing") {
  CHECK(crc32c(byte_span{}) == 0u);
  CHECK(crc32c_extend(0xE3069283u, byte_span{}) == 0xE3069283u);
}

TEST_CASE("crc32c_extend over consecutive pieces equals crc32c over the whole") {
  const byte_buffer data = random_bytes(100'000, 7);
  const byte_span all(data);
  for (std::size_t cut : {0u, 1u, 7u, 8u, 255u, 4096u, 24'577u, 99'999u, 100'000u}) {
    CAPTURE(cut);
    CHECK(crc32c_extend(crc32c(all.first(cut)), all.subspan(cut)) == crc32c(all));
  }
}

TEST_CASE("ISA-L and the portable crc32c agree on random data of many lengths and alignments") {
  const byte_buffer data = random_bytes(3 * 8192 * 2 + 3 * 256 + 64, 42);
  const byte_span all(data);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 1100; ++n) lengths.push_back(n);
  for (std::size_t n : {3u * 8192u - 1, 3u * 8192u, 3u * 8192u + 769u, 2u * 3u * 8192u + 800u}) {
    lengths.push_back(n);
  }
  for (std::size_t align = 0; align < 16; ++align) {
    for (std::size_t n : lengths) {
      if (align + n > all.size()) continue;
      const byte_span piece = all.subspan(align, n);
      const std::uint32_t seed = static_cast<std::uint32_t>(n * 2654435761u);
      REQUIRE(crc32c_extend(seed, piece) == crc32c_portable_extend(seed, piece));
    }
  }
}

}  // namespace
}  // namespace sluice
