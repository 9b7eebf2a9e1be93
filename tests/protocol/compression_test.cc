#include "protocol/compression.h"

#include <doctest/doctest.h>
#include <zstd.h>

#include <random>

#include "protocol/errc.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

byte_buffer compress(byte_span input) {
  return zstd_compress(input, 3).value();
}

// A frame whose header does not declare its content size, as streaming compressors write.
byte_buffer compress_without_size(byte_span input) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_contentSizeFlag, 0);
  byte_buffer out(ZSTD_compressBound(input.size()));
  const std::size_t n = ZSTD_compress2(ctx, out.data(), out.size(), input.data(), input.size());
  ZSTD_freeCCtx(ctx);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

byte_buffer random_text(std::size_t n) {
  std::mt19937 rng(1);
  byte_buffer out(n);
  for (std::byte& b : out) b = static_cast<std::byte>('a' + rng() % 8);
  return out;
}

TEST_CASE("zstd round-trips data, with and without a declared content size") {
  const byte_buffer data = random_text(300'000);
  CHECK(zstd_decompress(compress(data), data.size()).value() == data);
  CHECK(zstd_decompress(compress_without_size(data), data.size()).value() == data);
}

TEST_CASE("zstd round-trips empty input") {
  CHECK(zstd_decompress(compress(byte_span{}), 0).value().empty());
}

TEST_CASE("concatenated zstd frames decompress to the concatenated data") {
  const byte_buffer a = random_text(1000);
  const byte_buffer b = test::to_buffer("second frame");
  const byte_buffer frames = test::concat({compress(a), compress_without_size(b)});
  CHECK(zstd_decompress(frames, 10'000).value() == test::concat({a, b}));
}

TEST_CASE("output beyond the limit is decompression_failed, whether declared or not") {
  const byte_buffer zeros(10 << 20, std::byte{0});
  for (const byte_buffer& frame : {compress(zeros), compress_without_size(zeros)}) {
    CHECK(frame.size() < 2000);  // a decompression bomb: tiny in, huge out
    const auto r = zstd_decompress(frame, 1 << 20);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == protocol_errc::decompression_failed);
    CHECK(r.error().detail.find("limit of 1048576 bytes") != std::string::npos);
  }
}

TEST_CASE("output of exactly the limit is accepted") {
  const byte_buffer data = random_text(5000);
  CHECK(zstd_decompress(compress(data), 5000));
  CHECK(zstd_decompress(compress_without_size(data), 5000));
  CHECK_FALSE(zstd_decompress(compress_without_size(data), 4999));
}

TEST_CASE("truncated or corrupt zstd input is decompression_failed") {
  const byte_buffer frame = compress(random_text(10'000));
  const auto truncated = zstd_decompress(byte_span(frame).first(frame.size() / 2), 1 << 20);
  CHECK(truncated.error().code == protocol_errc::decompression_failed);
  CHECK(zstd_decompress(test::to_buffer("definitely not zstd"), 1 << 20).error().code ==
        protocol_errc::decompression_failed);
  CHECK(zstd_decompress(byte_span{}, 1 << 20).error().code == protocol_errc::decompression_failed);
}

}  // namespace
}  // namespace sluice
