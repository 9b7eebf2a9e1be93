#pragma once
// Producer-made record batches, built once before a run so that building them costs the
// measured loop nothing: uncompressed RecordBatch v2 of `record_size`-byte values (no key) with
// pseudo-random bytes, as many records as fit in `batch_bytes` (at least one).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "protocol/bytes.h"

namespace sluice::bench {

struct prebuilt_batch {
  byte_buffer bytes;
  std::size_t records = 0;
};

struct batch_shape {
  std::size_t record_size = 1024;   // value bytes per record
  std::size_t batch_bytes = 65536;  // target size of a whole batch, header included
};

// `count` distinct batches of the same shape (different random values), seeded for
// reproducibility.
[[nodiscard]] std::vector<prebuilt_batch> make_batches(const batch_shape& shape, std::size_t count,
                                                       std::uint64_t seed = 42);

}  // namespace sluice::bench
