#pragma once
// What the fuzz targets do with bytes that should hold whole record batches: every check a
// consumer makes, batch by batch.

#include <cstddef>

#include "protocol/record_batch.h"

namespace sluice::fuzz {

// Bounds decompression so a zstd bomb costs a refusal, not the fuzzer's memory.
inline constexpr std::size_t max_decompressed = std::size_t{1} << 20;

// Reads `bytes` as back-to-back batches and validates each, stopping at the first refusal.
inline void validate_batches(byte_span bytes) {
  batch_reader reader(bytes);
  for (;;) {
    auto next = reader.next();
    if (!next || !next->has_value()) return;
    (void)(*next)->validate(max_decompressed);
  }
}

}  // namespace sluice::fuzz
