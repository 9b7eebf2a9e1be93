#pragma once
// Internal to protocol/: the SSE4.2 CRC-32C kernel behind crc32c_extend. Use crc32c.h instead.

#include <cstdint>

#include "protocol/bytes.h"

namespace sluice::detail {

// True when this build targets x86-64 and the running CPU has SSE4.2.
[[nodiscard]] bool crc32c_sse42_available();

// Same contract as crc32c_extend. REQUIRES: crc32c_sse42_available().
[[nodiscard]] std::uint32_t crc32c_sse42_extend(std::uint32_t crc, byte_span data);

}  // namespace sluice::detail
