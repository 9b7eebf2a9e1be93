#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
// The CRC is the finished value (initial and final inversion applied), so
// crc32c_extend(crc32c(a), b) == crc32c(a + b) and crc32c_extend(0, x) == crc32c(x).
// All functions are thread-safe and allocation-free.

#include <cstdint>

#include "protocol/bytes.h"

namespace sluice {

// Continues crc over data, with Intel's ISA-L (crc32_iscsi: it picks the fastest code the CPU
// runs, PCLMUL folding or the SSE4.2 crc32 instruction, at load time; 3.3 times the interleaved
// crc32-instruction code this replaced on the development machine, perf/RESULTS.md).
[[nodiscard]] std::uint32_t crc32c_extend(std::uint32_t crc, byte_span data);

[[nodiscard]] inline std::uint32_t crc32c(byte_span data) {
  return crc32c_extend(0, data);
}

// A table-driven implementation written here, independent of ISA-L: the tests check one
// against the other.
[[nodiscard]] std::uint32_t crc32c_portable_extend(std::uint32_t crc, byte_span data);

}  // namespace sluice
