#pragma once
// What the fuzz targets share: the checks a consumer makes on bytes that should hold whole
// record batches, and where logs under test live.

#include <cstddef>
#include <filesystem>

#include "protocol/record_batch.h"

namespace sluice::fuzz {

// Where the targets that open a partition log keep it: a tmpfs when there is one, so the
// fdatasyncs of every open and close cost nothing and the fuzzer tries more inputs.
inline std::filesystem::path scratch_root() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

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
