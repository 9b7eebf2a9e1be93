#include "protocol/crc32c_sse42.h"

#include <array>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace sluice::detail {

#if defined(__x86_64__)
namespace {

// The crc32 instruction has a latency of 3 cycles but issues one per cycle, so the kernel runs
// three independent CRCs over three adjacent blocks and merges them. Merging needs "the register
// after block_size more zero bytes", a linear map over GF(2) precomputed into 4 byte tables.
constexpr std::size_t long_block = 8192;
constexpr std::size_t short_block = 256;

// A linear map on the 32-bit CRC register: column j is the image of bit j.
using gf2_matrix = std::array<std::uint32_t, 32>;

constexpr std::uint32_t apply(const gf2_matrix& m, std::uint32_t v) {
  std::uint32_t out = 0;
  for (std::size_t j = 0; v != 0; ++j, v >>= 1) {
    if (v & 1u) out ^= m[j];
  }
  return out;
}

constexpr gf2_matrix compose(const gf2_matrix& a, const gf2_matrix& b) {  // a after b
  gf2_matrix out{};
  for (std::size_t j = 0; j < 32; ++j) out[j] = apply(a, b[j]);
  return out;
}

constexpr gf2_matrix one_zero_byte() {
  gf2_matrix bit{};  // shifting one zero bit through the reflected register
  bit[0] = 0x82F63B78u;
  for (std::size_t j = 1; j < 32; ++j) bit[j] = 1u << (j - 1);
  const gf2_matrix two = compose(bit, bit);
  const gf2_matrix four = compose(two, two);
  return compose(four, four);
}

constexpr gf2_matrix zero_bytes(std::size_t n) {
  gf2_matrix result{};
  for (std::size_t j = 0; j < 32; ++j) result[j] = 1u << j;
  for (gf2_matrix base = one_zero_byte(); n != 0; n >>= 1, base = compose(base, base)) {
    if (n & 1u) result = compose(base, result);
  }
  return result;
}

using shift_tables = std::array<std::array<std::uint32_t, 256>, 4>;

constexpr shift_tables make_shift_tables(std::size_t n) {
  const gf2_matrix op = zero_bytes(n);
  shift_tables t{};
  for (std::size_t k = 0; k < 4; ++k) {
    for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = apply(op, b << (8 * k));
  }
  return t;
}

constexpr shift_tables long_shift = make_shift_tables(long_block);
constexpr shift_tables short_shift = make_shift_tables(short_block);

std::uint32_t shift(const shift_tables& t, std::uint32_t crc) {
  return t[0][crc & 0xFFu] ^ t[1][(crc >> 8) & 0xFFu] ^ t[2][(crc >> 16) & 0xFFu] ^ t[3][crc >> 24];
}

__attribute__((target("sse4.2"))) std::uint32_t step8(std::uint32_t crc, const std::byte* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return static_cast<std::uint32_t>(_mm_crc32_u64(crc, word));
}

__attribute__((target("sse4.2"))) std::uint32_t step1(std::uint32_t crc, std::byte b) {
  return _mm_crc32_u8(crc, std::to_integer<std::uint8_t>(b));
}

// Runs the register over as many 3 * block byte runs as fit; advances p and n.
__attribute__((target("sse4.2"))) std::uint32_t interleaved(std::uint32_t crc0, const std::byte*& p,
                                                            std::size_t& n, std::size_t block,
                                                            const shift_tables& t) {
  for (; n >= 3 * block; n -= 3 * block, p += 3 * block) {
    std::uint32_t crc1 = 0;
    std::uint32_t crc2 = 0;
    for (std::size_t i = 0; i < block; i += 8) {
      crc0 = step8(crc0, p + i);
      crc1 = step8(crc1, p + block + i);
      crc2 = step8(crc2, p + 2 * block + i);
    }
    crc0 = shift(t, crc0) ^ crc1;
    crc0 = shift(t, crc0) ^ crc2;
  }
  return crc0;
}

}  // namespace

bool crc32c_sse42_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42_extend(std::uint32_t crc,
                                                                    byte_span data) {
  std::uint32_t reg = ~crc;
  const std::byte* p = data.data();
  std::size_t n = data.size();
  for (; n > 0 && reinterpret_cast<std::uintptr_t>(p) % 8 != 0; --n, ++p) reg = step1(reg, *p);
  reg = interleaved(reg, p, n, long_block, long_shift);
  reg = interleaved(reg, p, n, short_block, short_shift);
  for (; n >= 8; n -= 8, p += 8) reg = step8(reg, p);
  for (; n > 0; --n, ++p) reg = step1(reg, *p);
  return ~reg;
}

#else  // not x86-64: the portable code is the only implementation.

bool crc32c_sse42_available() {
  return false;
}

std::uint32_t crc32c_sse42_extend(std::uint32_t, byte_span) {
  __builtin_trap();
}

#endif

}  // namespace sluice::detail
