#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
// The CRC is the finished value (initial and final inversion applied), so
// crc32c_extend(crc32c(a), b) == crc32c(a + b) and crc32c_extend(0, x) == crc32c(x).
// All functions are thread-safe and allocation-free.

#include <cstdint>

#include "protocol/bytes.h"

namespace sluice {

// Continues crc over data. Uses SSE4.2 (three interleaved streams) when the CPU has it, else the
// portable slicing-by-8 code; both give identical results.
[[nodiscard]] std::uint32_t crc32c_extend(std::uint32_t crc, byte_span data);

[[nodiscard]] inline std::uint32_t crc32c(byte_span data) {
  return crc32c_extend(0, data);
}

// The table-driven implementation, whatever the CPU; for tests and as the fallback.
[[nodiscard]] std::uint32_t crc32c_portable_extend(std::uint32_t crc, byte_span data);

// True when crc32c_extend runs on the SSE4.2 crc32 instruction.
[[nodiscard]] bool crc32c_uses_hardware();

}  // namespace sluice
