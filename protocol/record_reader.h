#pragma once
// Internal to protocol/: walks the uncompressed record stream of one batch, checking every
// length and offset delta. Shared by record_batch_view::validate and decode_records.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "protocol/batch_header.h"
#include "protocol/bytes.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "protocol/result.h"

namespace sluice::detail {

// bad_record_count unless 0 < records_count == last_offset_delta + 1.
[[nodiscard]] result<void> check_record_count(const batch_header& header);

// The batch's record stream uncompressed: a view of its bytes (codec none) or of `owned`, which
// receives the decompressed zstd stream. unsupported_compression for any other codec.
[[nodiscard]] result<byte_span> uncompressed_records(const record_batch_view& batch,
                                                     byte_buffer& owned,
                                                     std::size_t max_decompressed_bytes);

class record_reader {
 public:
  // stream must outlive the reader and the record_views it fills.
  record_reader(const batch_header& header, byte_span stream) : header_(header), stream_(stream) {}

  // Reads record number index() into out, or only checks it when out is null.
  [[nodiscard]] result<void> next(record_view* out);
  // bad_record when bytes are left after the last record.
  [[nodiscard]] result<void> finish() const;

  [[nodiscard]] std::int32_t index() const { return index_; }

 private:
  const batch_header& header_;
  byte_span stream_;
  std::size_t position_ = 0;  // in stream_
  std::int32_t index_ = 0;
};

}  // namespace sluice::detail
