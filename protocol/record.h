#pragma once
// Records of a batch, decoded into views (layout: record_batch_format.h, "Record").

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

struct header_view {
  std::string_view key;            // UTF-8 as sent; not checked
  std::optional<byte_span> value;  // nullopt: null value
};

struct record_view {
  sluice::offset offset;  // base_offset + offset delta
  // base_timestamp + timestamp delta; max_timestamp for every record of a LogAppendTime batch.
  std::int64_t timestamp = 0;
  std::optional<byte_span> key;    // nullopt: null key
  std::optional<byte_span> value;  // nullopt: null value (a tombstone)
  std::vector<header_view> headers;
};

class decoded_records;

// Decodes every record of batch (zstd decompressed, at most max_decompressed_bytes). Checks what
// validate() checks except the CRC: records_count, record lengths, offset deltas, leftovers.
// Fails with unsupported_compression for gzip, snappy, lz4 and unknown codecs.
[[nodiscard]] result<decoded_records> decode_records(
    const record_batch_view& batch,
    std::size_t max_decompressed_bytes = default_max_decompressed_bytes);

// The records of one batch. The views point into the batch's bytes or, for a compressed batch,
// into the decompressed buffer this object owns: they stay valid while both this object and the
// batch bytes live. Move-only (moving keeps the views valid).
class decoded_records {
 public:
  decoded_records(const decoded_records&) = delete;
  decoded_records& operator=(const decoded_records&) = delete;
  decoded_records(decoded_records&&) noexcept = default;
  decoded_records& operator=(decoded_records&&) noexcept = default;
  ~decoded_records() = default;

  [[nodiscard]] const std::vector<record_view>& records() const { return records_; }
  // Whether the views point into this object's own buffer (a compressed batch's records) rather
  // than into the batch bytes.
  [[nodiscard]] bool owns_bytes() const { return !decompressed_.empty(); }

 private:
  friend result<decoded_records> decode_records(const record_batch_view&, std::size_t);
  decoded_records(byte_buffer decompressed, std::vector<record_view> records)
      : decompressed_(std::move(decompressed)), records_(std::move(records)) {}

  byte_buffer decompressed_;  // empty unless the batch was compressed
  std::vector<record_view> records_;
};

}  // namespace sluice
