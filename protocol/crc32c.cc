#include "protocol/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <array>
#include <limits>

namespace sluice {
namespace {

constexpr std::uint32_t castagnoli_reflected = 0x82F63B78u;

using slice_tables = std::array<std::array<std::uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC register after byte b
// followed by k zero bytes, which lets eight input bytes be folded in one step.
constexpr slice_tables make_slice_tables() {
  slice_tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? castagnoli_reflected : 0u);
    t[0][b] = crc;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr slice_tables tables = make_slice_tables();

std::uint32_t load_le32(const std::byte* p) {
  return std::to_integer<std::uint32_t>(p[0]) | std::to_integer<std::uint32_t>(p[1]) << 8 |
         std::to_integer<std::uint32_t>(p[2]) << 16 | std::to_integer<std::uint32_t>(p[3]) << 24;
}

std::uint32_t fold8(std::uint32_t crc, const std::byte* p) {
  const std::uint32_t lo = load_le32(p) ^ crc;
  const std::uint32_t hi = load_le32(p + 4);
  return tables[7][lo & 0xFFu] ^ tables[6][(lo >> 8) & 0xFFu] ^ tables[5][(lo >> 16) & 0xFFu] ^
         tables[4][lo >> 24] ^ tables[3][hi & 0xFFu] ^ tables[2][(hi >> 8) & 0xFFu] ^
         tables[1][(hi >> 16) & 0xFFu] ^ tables[0][hi >> 24];
}

std::uint32_t fold1(std::uint32_t crc, std::byte b) {
  return (crc >> 8) ^ tables[0][(crc ^ std::to_integer<std::uint32_t>(b)) & 0xFFu];
}

}  // namespace

std::uint32_t crc32c_portable_extend(std::uint32_t crc, byte_span data) {
  std::uint32_t reg = ~crc;
  const std::byte* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) reg = fold8(reg, p);
  for (; n > 0; --n, ++p) reg = fold1(reg, *p);
  return ~reg;
}

std::uint32_t crc32c_extend(std::uint32_t crc, byte_span data) {
  // ISA-L's crc32_iscsi takes and returns the register without the inversions, and an int
  // length.
  constexpr std::size_t max_piece = std::numeric_limits<int>::max();
  std::uint32_t reg = ~crc;
  for (std::size_t done = 0; done < data.size();) {
    const std::size_t n = std::min(data.size() - done, max_piece);
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data() + done);
    // The signature takes a non-const pointer; ISA-L only reads the buffer.
    auto* p = const_cast<unsigned char*>(bytes);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    reg = crc32_iscsi(p, static_cast<int>(n), reg);
    done += n;
  }
  return ~reg;
}

}  // namespace sluice
