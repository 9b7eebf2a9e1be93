#include "protocol/record_batch_builder.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "protocol/compression.h"
#include "protocol/crc32c.h"
#include "protocol/result.h"
#include "protocol/varint.h"

namespace sluice {
namespace {

std::int32_t to_length(std::size_t n) {
  SLUICE_ASSERT(n <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()));
  return static_cast<std::int32_t>(n);
}

void append(byte_buffer& out, byte_span bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void append_nullable(byte_buffer& out, std::optional<byte_span> bytes) {
  if (!bytes) {
    encode_varint(out, -1);
    return;
  }
  encode_varint(out, to_length(bytes->size()));
  append(out, *bytes);
}

void append_headers(byte_buffer& out, std::span<const record_header> headers) {
  encode_varint(out, to_length(headers.size()));
  for (const record_header& h : headers) {
    append_nullable(out, as_bytes(h.key));
    append_nullable(out, h.value ? std::optional<byte_span>(*h.value) : std::nullopt);
  }
}

// Wrapping subtraction: timestamps are client data and may be anything.
std::int64_t timestamp_delta(std::int64_t t, std::int64_t base) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(t) -
                                   static_cast<std::uint64_t>(base));
}

}  // namespace

record_batch_builder::record_batch_builder(options opts) : opts_(opts) {
  SLUICE_ASSERT(opts_.codec == compression::none || opts_.codec == compression::zstd);
}

void record_batch_builder::add(std::int64_t timestamp, std::optional<byte_span> key,
                               std::optional<byte_span> value,
                               std::span<const record_header> headers) {
  if (count_ == 0) base_timestamp_ = max_timestamp_ = timestamp;
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  scratch_.clear();
  scratch_.push_back(std::byte{0});  // record attributes: unused
  encode_varlong(scratch_, timestamp_delta(timestamp, base_timestamp_));
  encode_varint(scratch_, to_length(count_));  // offset delta
  append_nullable(scratch_, key);
  append_nullable(scratch_, value);
  append_headers(scratch_, headers);
  encode_varint(records_, to_length(scratch_.size()));
  append(records_, scratch_);
  ++count_;
}

std::size_t record_batch_builder::estimated_size_bytes() const {
  return batch_header_size + records_.size();
}

byte_buffer record_batch_builder::build(offset base) {
  SLUICE_ASSERT(!empty());
  // Sized once and copied into: appending to a 61-byte vector trips a false -Warray-bounds in
  // GCC 12 at -O3.
  auto header_then = [](byte_span records) {
    byte_buffer batch(batch_header_size + records.size());
    std::memcpy(batch.data() + batch_header_size, records.data(), records.size());
    return batch;
  };
  byte_buffer batch;
  if (opts_.codec == compression::zstd) {
    // Fails only when zstd cannot allocate a context: not an input error.
    auto compressed = zstd_compress(records_, opts_.zstd_level);
    SLUICE_ASSERT(compressed.has_value());
    batch = header_then(compressed.value());
  } else {
    batch = header_then(records_);
  }
  write_header(batch, base);
  reset();
  return batch;
}

// REQUIRES: batch holds the header space followed by the records.
void record_batch_builder::write_header(byte_buffer& batch, offset base) const {
  std::byte* p = batch.data();
  store_be(p + base_offset_offset, base.value);
  store_be(p + batch_length_offset, to_length(batch.size() - log_overhead));
  store_be(p + partition_leader_epoch_offset, std::int32_t{-1});
  store_be(p + magic_offset, magic_v2);
  store_be(p + attributes_offset, static_cast<std::int16_t>(opts_.codec));
  store_be(p + last_offset_delta_offset, to_length(count_ - 1));
  store_be(p + base_timestamp_offset, base_timestamp_);
  store_be(p + max_timestamp_offset, max_timestamp_);
  store_be(p + producer_id_offset, opts_.producer_id);
  store_be(p + producer_epoch_offset, opts_.producer_epoch);
  store_be(p + base_sequence_offset, opts_.base_sequence);
  store_be(p + records_count_offset, to_length(count_));
  store_be(p + crc_offset, crc32c(byte_span(batch).subspan(crc_scope_start)));
}

void record_batch_builder::reset() {
  records_.clear();
  count_ = 0;
  base_timestamp_ = max_timestamp_ = -1;
}

}  // namespace sluice
