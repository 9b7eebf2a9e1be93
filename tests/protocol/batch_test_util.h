#pragma once
// Helpers for protocol tests: building batches in one line, corrupting them on purpose, and
// crafting record streams that no correct builder would produce.

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/crc32c.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_batch_format.h"
#include "protocol/result.h"
#include "protocol/varint.h"
#include "tests/result_printer.h"

namespace sluice::test {

inline std::string to_string(byte_span b) {
  return std::string(as_string_view(b));
}
inline std::string to_string(std::optional<byte_span> b) {
  return b ? to_string(*b) : "<null>";
}

inline byte_buffer to_buffer(std::string_view s) {
  const byte_span b = as_bytes(s);
  return {b.begin(), b.end()};
}

// A batch of n records "key-i" -> "value-i" at timestamps 1000 + i.
inline byte_buffer simple_batch(int n, record_batch_builder::options opts = {},
                                offset base = offset{0}) {
  record_batch_builder builder(opts);
  for (int i = 0; i < n; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const std::string value = "value-" + std::to_string(i);
    builder.add(1000 + i, as_bytes(key), as_bytes(value));
  }
  return builder.build(base);
}

template <class T>
void poke(byte_buffer& batch, std::size_t at, T value) {
  store_be(batch.data() + at, value);
}

template <class T>
T peek(const byte_buffer& batch, std::size_t at) {
  return load_be<T>(batch.data() + at);
}

// Recomputes the CRC after a deliberate edit, so a test reaches the checks behind it.
inline void restamp_crc(byte_buffer& batch) {
  poke(batch, crc_offset, crc32c(byte_span(batch).subspan(crc_scope_start)));
}

// One encoded record (Length varint + body) with any offset delta, no headers.
inline byte_buffer raw_record(std::int32_t offset_delta, std::string_view key,
                              std::string_view value) {
  byte_buffer body{std::byte{0}};
  encode_varlong(body, 0);
  encode_varint(body, offset_delta);
  encode_varint(body, static_cast<std::int32_t>(key.size()));
  for (char c : key) body.push_back(static_cast<std::byte>(c));
  encode_varint(body, static_cast<std::int32_t>(value.size()));
  for (char c : value) body.push_back(static_cast<std::byte>(c));
  encode_varint(body, 0);
  byte_buffer out;
  encode_varint(out, static_cast<std::int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A batch around an arbitrary record stream, header fields consistent with records_count, CRC
// valid: whatever is wrong is wrong inside the stream.
inline byte_buffer batch_around(const byte_buffer& stream, std::int32_t records_count,
                                compression codec = compression::none) {
  // Reserved up front: growing by insert() trips GCC 12's false -Warray-bounds at -O3.
  byte_buffer batch;
  batch.reserve(batch_header_size + stream.size());
  batch.resize(batch_header_size);
  batch.insert(batch.end(), stream.begin(), stream.end());
  poke(batch, batch_length_offset, static_cast<std::int32_t>(batch.size() - log_overhead));
  poke(batch, partition_leader_epoch_offset, std::int32_t{-1});
  poke(batch, magic_offset, magic_v2);
  poke(batch, attributes_offset, static_cast<std::int16_t>(codec));
  poke(batch, last_offset_delta_offset, records_count - 1);
  poke(batch, producer_id_offset, std::int64_t{-1});
  poke(batch, producer_epoch_offset, std::int16_t{-1});
  poke(batch, base_sequence_offset, std::int32_t{-1});
  poke(batch, records_count_offset, records_count);
  restamp_crc(batch);
  return batch;
}

inline byte_buffer concat(std::initializer_list<byte_buffer> parts) {
  byte_buffer out;
  for (const byte_buffer& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace sluice::test
