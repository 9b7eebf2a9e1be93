#pragma once
// The 61-byte header of a RecordBatch v2, decoded (layout in record_batch_format.h).

#include <cstddef>
#include <cstdint>

#include "protocol/bytes.h"
#include "protocol/record_batch_format.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

struct batch_header {
  offset base_offset;
  std::int32_t batch_length = 0;  // bytes after the BatchLength field
  leader_epoch partition_leader_epoch;
  std::int8_t magic = 0;
  std::uint32_t crc = 0;  // as stored; covers [crc_scope_start, size_bytes())
  std::int16_t attributes = 0;
  std::int32_t last_offset_delta = 0;
  std::int64_t base_timestamp = 0;
  std::int64_t max_timestamp = 0;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  std::int32_t records_count = 0;

  // Whole batch size: batch_length + log_overhead (12).
  [[nodiscard]] std::size_t size_bytes() const;
  // base_offset + last_offset_delta.
  [[nodiscard]] offset last_offset() const;
  // The offset after this batch: last_offset() + 1, the log end offset once it is appended.
  [[nodiscard]] offset next_offset() const;
  // The codec bits; values 5-7 are not valid codecs and come back as they are.
  [[nodiscard]] compression codec() const;
  [[nodiscard]] bool is_control() const;
  [[nodiscard]] bool is_transactional() const;
  // Timestamp type LogAppendTime: every record's timestamp is max_timestamp.
  [[nodiscard]] bool log_append_time() const;
};

// Parses the 61-byte header at the start of bytes. Fails with batch_truncated when fewer than 61
// bytes are given, bad_magic when Magic != 2, bad_length when BatchLength < 49. Checks neither
// the CRC nor that the whole batch is present (record_batch_view::parse does the latter).
[[nodiscard]] result<batch_header> parse_batch_header(byte_span bytes);

// The first 17 bytes of a batch: enough to frame it before the rest is read.
struct batch_prefix {
  offset base_offset;
  std::int32_t batch_length = 0;
  std::int8_t magic = 0;

  // Whole batch size: batch_length + log_overhead (12).
  [[nodiscard]] std::size_t size_bytes() const;
};

// For scans over back-to-back batches (recovery, fetch slicing): reads BaseOffset, BatchLength and
// Magic from the first batch_prefix_size (17) bytes and never looks further.
// Fails with batch_truncated when fewer than 17 bytes are given (at the end of a file: a torn
// tail, not corruption), bad_magic when Magic != 2, bad_length when BatchLength < 49. Whether
// size_bytes() bytes are actually present is left to the caller.
[[nodiscard]] result<batch_prefix> peek_batch_prefix(byte_span bytes);

}  // namespace sluice
