#pragma once
// zstd, the codec Sluice's clients write (attributes codec 4). The broker stores compressed
// batches as they are; it decompresses only to validate or decode, never on the fetch path.

#include <cstddef>

#include "protocol/bytes.h"
#include "protocol/result.h"

namespace sluice {

// Default cap on what one batch may decompress to (see decode_records); far above what a 1 MiB
// batch of real data expands to, far below what exhausts a broker.
inline constexpr std::size_t default_max_decompressed_bytes = std::size_t{64} << 20;

// One zstd frame holding input, with its content size in the frame header (kafka-python and the
// Java client need it). level: 1..22 (values out of range are clamped by zstd; <= 0 are zstd's
// fast levels). Fails (generic not_enough_memory or invalid_argument) only when zstd cannot run.
[[nodiscard]] result<byte_buffer> zstd_compress(byte_span input, int level);

// Decompresses one or more concatenated zstd frames, with or without a content size in the
// header. Fails with decompression_failed on corrupt or truncated input, and as soon as the
// output would exceed max_output_bytes (a decompression bomb), before allocating beyond it.
[[nodiscard]] result<byte_buffer> zstd_decompress(byte_span input, std::size_t max_output_bytes);

}  // namespace sluice
