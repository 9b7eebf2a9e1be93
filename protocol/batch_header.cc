#include "protocol/batch_header.h"

#include <fmt/format.h>

#include "protocol/errc.h"

namespace sluice {
namespace {

template <std::integral T>
T field(byte_span bytes, std::size_t at) {
  return load_be<T>(bytes.data() + at);
}

// Checks shared by the prefix and the full header; REQUIRES: bytes.size() >= batch_prefix_size.
result<void> check_magic_and_length(byte_span bytes) {
  const auto magic = field<std::int8_t>(bytes, magic_offset);
  if (magic != magic_v2) {
    return make_error(protocol_errc::bad_magic,
                      fmt::format("batch magic is {}, only {} is supported", magic, magic_v2));
  }
  const auto length = field<std::int32_t>(bytes, batch_length_offset);
  if (length < min_batch_length) {
    return make_error(
        protocol_errc::bad_length,
        fmt::format("batch length {} is below the minimum {}", length, min_batch_length));
  }
  return {};
}

result<void> check_size(byte_span bytes, std::size_t needed, const char* what) {
  if (bytes.size() >= needed) return {};
  return make_error(protocol_errc::batch_truncated,
                    fmt::format("{} needs {} bytes, only {} present", what, needed, bytes.size()));
}

batch_header decode_header(byte_span b) {
  return batch_header{
      .base_offset = offset{field<std::int64_t>(b, base_offset_offset)},
      .batch_length = field<std::int32_t>(b, batch_length_offset),
      .partition_leader_epoch = leader_epoch{field<std::int32_t>(b, partition_leader_epoch_offset)},
      .magic = field<std::int8_t>(b, magic_offset),
      .crc = field<std::uint32_t>(b, crc_offset),
      .attributes = field<std::int16_t>(b, attributes_offset),
      .last_offset_delta = field<std::int32_t>(b, last_offset_delta_offset),
      .base_timestamp = field<std::int64_t>(b, base_timestamp_offset),
      .max_timestamp = field<std::int64_t>(b, max_timestamp_offset),
      .producer_id = field<std::int64_t>(b, producer_id_offset),
      .producer_epoch = field<std::int16_t>(b, producer_epoch_offset),
      .base_sequence = field<std::int32_t>(b, base_sequence_offset),
      .records_count = field<std::int32_t>(b, records_count_offset),
  };
}

}  // namespace

std::size_t batch_header::size_bytes() const {
  return static_cast<std::size_t>(batch_length) + log_overhead;
}

// Wrapping: a corrupt header may hold any base offset, and overflow must not be undefined.
offset batch_header::last_offset() const {
  return offset{static_cast<std::int64_t>(static_cast<std::uint64_t>(base_offset.value) +
                                          static_cast<std::uint64_t>(last_offset_delta))};
}

offset batch_header::next_offset() const {
  return offset{static_cast<std::int64_t>(static_cast<std::uint64_t>(last_offset().value) + 1)};
}

compression batch_header::codec() const {
  return static_cast<compression>(attributes & compression_mask);
}

bool batch_header::is_control() const {
  return (attributes & control_mask) != 0;
}

bool batch_header::is_transactional() const {
  return (attributes & transactional_mask) != 0;
}

bool batch_header::log_append_time() const {
  return (attributes & timestamp_type_mask) != 0;
}

result<batch_header> parse_batch_header(byte_span bytes) {
  if (auto r = check_size(bytes, batch_header_size, "batch header"); !r) return r.error();
  if (auto r = check_magic_and_length(bytes); !r) return r.error();
  return decode_header(bytes);
}

std::size_t batch_prefix::size_bytes() const {
  return static_cast<std::size_t>(batch_length) + log_overhead;
}

result<batch_prefix> peek_batch_prefix(byte_span bytes) {
  if (auto r = check_size(bytes, batch_prefix_size, "batch prefix"); !r) return r.error();
  if (auto r = check_magic_and_length(bytes); !r) return r.error();
  return batch_prefix{.base_offset = offset{field<std::int64_t>(bytes, base_offset_offset)},
                      .batch_length = field<std::int32_t>(bytes, batch_length_offset),
                      .magic = field<std::int8_t>(bytes, magic_offset)};
}

}  // namespace sluice
