#pragma once
// Builds one RecordBatch v2 from records, the way a producer does: relative offsets 0..n-1,
// timestamps relative to the first record, optional zstd, CRC computed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "protocol/bytes.h"
#include "protocol/record_batch_format.h"
#include "protocol/strong_types.h"

namespace sluice {

struct record_header {
  std::string key;
  std::optional<byte_buffer> value;  // nullopt: null value
};

// record_batch_builder::options (declared outside the class so it can be a default argument).
struct record_batch_builder_options {
  compression codec = compression::none;  // none or zstd; the others cannot be built
  int zstd_level = 3;
  std::int64_t producer_id = -1;  // idempotence fields, copied into the header as they are
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
};

// Not thread-safe; one builder per producer batch in progress.
class record_batch_builder {
 public:
  using options = record_batch_builder_options;

  // REQUIRES: opts.codec is none or zstd.
  explicit record_batch_builder(options opts = {});

  // Appends a record; key, value and headers are copied. nullopt key/value: null (a null value
  // is a tombstone).
  void add(std::int64_t timestamp, std::optional<byte_span> key, std::optional<byte_span> value,
           std::span<const record_header> headers = {});

  [[nodiscard]] std::size_t record_count() const { return count_; }
  [[nodiscard]] bool empty() const { return count_ == 0; }
  // The batch size if built uncompressed now: an upper bound for zstd in practice.
  [[nodiscard]] std::size_t estimated_size_bytes() const;

  // The finished batch: BaseOffset = base, PartitionLeaderEpoch = -1, CRC set. Resets the
  // builder to empty (same options). REQUIRES: !empty().
  [[nodiscard]] byte_buffer build(offset base = offset{0});

 private:
  void reset();
  void write_header(byte_buffer& batch, offset base) const;

  options opts_;
  // Room for the header, then the uncompressed record stream: built uncompressed, the batch
  // is this buffer, header filled in.
  byte_buffer batch_;
  std::size_t count_ = 0;
  std::int64_t base_timestamp_ = -1;
  std::int64_t max_timestamp_ = -1;
};

}  // namespace sluice
