#include "protocol/record_batch.h"

#include <fmt/format.h>

#include "protocol/crc32c.h"
#include "protocol/errc.h"
#include "protocol/record_reader.h"

namespace sluice {

result<record_batch_view> record_batch_view::parse(byte_span bytes) {
  auto parsed = parse_batch_header(bytes);
  if (!parsed) return parsed.error();
  const batch_header& header = parsed.value();
  const std::size_t size = header.size_bytes();
  if (bytes.size() < size) {
    return make_error(protocol_errc::batch_truncated,
                      fmt::format("batch at base offset {} needs {} bytes, only {} present",
                                  header.base_offset, size, bytes.size()));
  }
  return record_batch_view(header, bytes.first(size));
}

byte_span record_batch_view::records_bytes() const {
  return bytes_.subspan(batch_header_size);
}

std::uint32_t record_batch_view::computed_crc() const {
  return crc32c(bytes_.subspan(crc_scope_start));
}

bool record_batch_view::crc_matches() const {
  return computed_crc() == header_.crc;
}

result<void> record_batch_view::validate(std::size_t max_decompressed_bytes) const {
  if (const std::uint32_t computed = computed_crc(); computed != header_.crc) {
    return make_error(protocol_errc::bad_crc,
                      fmt::format("batch at base offset {} ({} bytes): stored CRC {:#010x}, "
                                  "computed {:#010x}",
                                  header_.base_offset, bytes_.size(), header_.crc, computed));
  }
  if (auto r = detail::check_record_count(header_); !r) return r;
  const compression codec = header_.codec();
  if (codec == compression::gzip || codec == compression::snappy || codec == compression::lz4) {
    return {};  // stored as sent; the broker never decompresses these
  }
  byte_buffer owned;
  auto stream = detail::uncompressed_records(*this, owned, max_decompressed_bytes);
  if (!stream) return stream.error();
  detail::record_reader reader(header_, stream.value());
  while (reader.index() < header_.records_count) {
    if (auto r = reader.next(nullptr); !r) return r;
  }
  return reader.finish();
}

result<void> check_batch_size(const batch_header& header, std::size_t max_batch_bytes) {
  if (header.size_bytes() <= max_batch_bytes) return {};
  return make_error(protocol_errc::batch_too_large,
                    fmt::format("batch of {} bytes exceeds the maximum of {} bytes",
                                header.size_bytes(), max_batch_bytes));
}

void set_base_offset(mutable_byte_span batch, offset base) {
  SLUICE_ASSERT(batch.size() >= batch_header_size);
  store_be(batch.data() + base_offset_offset, base.value);
}

void set_partition_leader_epoch(mutable_byte_span batch, leader_epoch epoch) {
  SLUICE_ASSERT(batch.size() >= batch_header_size);
  store_be(batch.data() + partition_leader_epoch_offset, epoch.value);
}

result<std::optional<record_batch_view>> batch_reader::next() {
  const byte_span rest = buffer_.subspan(position_);
  if (rest.size() < batch_prefix_size) return std::optional<record_batch_view>{};
  auto prefix = peek_batch_prefix(rest);
  if (!prefix) return prefix.error();
  if (rest.size() < prefix.value().size_bytes()) return std::optional<record_batch_view>{};
  auto batch = record_batch_view::parse(rest);
  if (!batch) return batch.error();
  position_ += batch.value().bytes().size();
  return std::optional<record_batch_view>{batch.value()};
}

}  // namespace sluice
