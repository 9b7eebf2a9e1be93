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

// A key, value or header value: its length (-1 when null), then its bytes.
std::size_t size_of_nullable(std::optional<byte_span> bytes) {
  return bytes ? size_of_varint(to_length(bytes->size())) + bytes->size() : size_of_varint(-1);
}

std::byte* write_nullable(std::byte* p, std::optional<byte_span> bytes) {
  if (!bytes) return write_varlong(p, -1);
  p = write_varlong(p, to_length(bytes->size()));
  if (!bytes->empty()) std::memcpy(p, bytes->data(), bytes->size());
  return p + bytes->size();
}

std::optional<byte_span> value_of(const record_header& h) {
  return h.value ? std::optional<byte_span>(*h.value) : std::nullopt;
}

// Wrapping subtraction: timestamps are client data and may be anything.
std::int64_t timestamp_delta(std::int64_t t, std::int64_t base) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(t) -
                                   static_cast<std::uint64_t>(base));
}

}  // namespace

record_batch_builder::record_batch_builder(options opts) : opts_(opts) {
  SLUICE_ASSERT(opts_.codec == compression::none || opts_.codec == compression::zstd);
  batch_.resize(batch_header_size);
}

void record_batch_builder::add(std::int64_t timestamp, std::optional<byte_span> key,
                               std::optional<byte_span> value,
                               std::span<const record_header> headers) {
  if (count_ == 0) base_timestamp_ = max_timestamp_ = timestamp;
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  // Sized first and written once, straight into the batch: this runs for every record a
  // producer sends.
  const std::int64_t delta = timestamp_delta(timestamp, base_timestamp_);
  std::size_t body = 1 + size_of_varlong(delta) + size_of_varint(to_length(count_)) +
                     size_of_nullable(key) + size_of_nullable(value) +
                     size_of_varint(to_length(headers.size()));
  for (const record_header& h : headers) {
    body += size_of_nullable(as_bytes(h.key)) + size_of_nullable(value_of(h));
  }
  const std::size_t start = batch_.size();
  batch_.resize(start + size_of_varint(to_length(body)) + body);
  std::byte* p = batch_.data() + start;
  p = write_varlong(p, to_length(body));
  *p++ = std::byte{0};  // record attributes: unused
  p = write_varlong(p, delta);
  p = write_varlong(p, to_length(count_));  // offset delta
  p = write_nullable(p, key);
  p = write_nullable(p, value);
  p = write_varlong(p, to_length(headers.size()));
  for (const record_header& h : headers) {
    p = write_nullable(p, as_bytes(h.key));
    p = write_nullable(p, value_of(h));
  }
  SLUICE_ASSERT(p == batch_.data() + batch_.size());
  ++count_;
}

std::size_t record_batch_builder::estimated_size_bytes() const {
  return batch_.size();
}

byte_buffer record_batch_builder::build(offset base) {
  SLUICE_ASSERT(!empty());
  byte_buffer batch;
  if (opts_.codec == compression::zstd) {
    // Fails only when zstd cannot allocate a context: not an input error.
    auto compressed = zstd_compress(byte_span(batch_).subspan(batch_header_size), opts_.zstd_level);
    SLUICE_ASSERT(compressed.has_value());
    // Sized once and copied into: appending to a 61-byte vector trips a false -Warray-bounds
    // in GCC 12 at -O3.
    batch.resize(batch_header_size + compressed->size());
    std::memcpy(batch.data() + batch_header_size, compressed->data(), compressed->size());
  } else {
    batch = std::move(batch_);
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
  batch_.clear();  // moved from by an uncompressed build(): valid and empty
  batch_.resize(batch_header_size);
  count_ = 0;
  base_timestamp_ = max_timestamp_ = -1;
}

}  // namespace sluice
