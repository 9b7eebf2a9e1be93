#pragma once
// A RecordBatch v2 as bytes: parse (frame + header), validate (what a broker checks on produce),
// broker-side stamping, and a reader over back-to-back batches. Layout: record_batch_format.h.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "protocol/batch_header.h"
#include "protocol/bytes.h"
#include "protocol/compression.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

// A non-owning view over exactly one whole batch. Copyable; valid as long as the bytes it was
// parsed from. Parsing checks only the frame (header fields, enough bytes); validate() checks
// the rest.
class record_batch_view {
 public:
  // Views the batch at the start of bytes. Fails as parse_batch_header does, or with
  // batch_truncated when bytes is shorter than the header's size_bytes(); bytes after the
  // batch are ignored, and bytes() covers exactly size_bytes().
  [[nodiscard]] static result<record_batch_view> parse(byte_span bytes);

  [[nodiscard]] const batch_header& header() const { return header_; }
  [[nodiscard]] byte_span bytes() const { return bytes_; }
  // The records (compressed or not): bytes()[61, end).
  [[nodiscard]] byte_span records_bytes() const;

  // CRC-32C of bytes()[21, end), what header().crc should be.
  [[nodiscard]] std::uint32_t computed_crc() const;
  [[nodiscard]] bool crc_matches() const;

  // Full validation as a broker does on produce:
  //  - bad_crc: stored != computed CRC (both values in the detail);
  //  - bad_record_count: records_count <= 0 or != last_offset_delta + 1;
  //  - unsupported_compression: codec 5..7;
  //  - records decode (zstd decompressed, at most max_decompressed_bytes, else
  //    decompression_failed): each record's length matches its fields and fits (bad_record),
  //    offset deltas are exactly 0..n-1 (bad_offset_delta), nothing is left over (bad_record).
  // gzip, snappy and lz4 batches are accepted after the header and CRC checks (stored, not
  // decoded). Does not judge control batches or the batch size limit: that is broker policy
  // (header().is_control(), check_batch_size,
  // partition_log::check_appendable).
  [[nodiscard]] result<void> validate(
      std::size_t max_decompressed_bytes = default_max_decompressed_bytes) const;

 private:
  record_batch_view(batch_header header, byte_span bytes) : header_(header), bytes_(bytes) {}

  batch_header header_;
  byte_span bytes_;
};

// batch_too_large when header.size_bytes() > max_batch_bytes (Kafka: max.message.bytes).
[[nodiscard]] result<void> check_batch_size(const batch_header& header,
                                            std::size_t max_batch_bytes);

// Broker-side stamping of fields outside the CRC scope: the CRC stays valid.
// REQUIRES: batch.size() >= batch_header_size.
void set_base_offset(mutable_byte_span batch, offset base);
void set_partition_leader_epoch(mutable_byte_span batch, leader_epoch epoch);

// Walks a buffer of back-to-back batches (a fetch response, a slice of a .log file), one whole
// batch at a time, checking only each batch's frame. Does not own the buffer.
class batch_reader {
 public:
  explicit batch_reader(byte_span buffer) : buffer_(buffer) {}

  // The next whole batch, or std::nullopt when none is left: the buffer is exhausted or ends in a
  // partial batch (remaining_bytes() says how many bytes are left over). Fails, without
  // advancing, when the bytes at position() are not a batch frame (bad_magic, bad_length).
  [[nodiscard]] result<std::optional<record_batch_view>> next();

  // Bytes of the whole batches returned so far: where the next batch starts.
  [[nodiscard]] std::size_t position() const { return position_; }
  // Bytes after position(); after next() returned std::nullopt, the trailing partial batch.
  [[nodiscard]] std::size_t remaining_bytes() const { return buffer_.size() - position_; }

 private:
  byte_span buffer_;
  std::size_t position_ = 0;
};

}  // namespace sluice
