#include "protocol/record.h"

#include <algorithm>

#include "protocol/record_reader.h"

namespace sluice {
namespace {

// Every record takes at least 7 bytes (length, attributes, timestamp delta, offset delta, key,
// value, headers count: one byte each), so a lying records_count cannot make us over-reserve.
constexpr std::size_t min_record_size = 7;

}  // namespace

result<decoded_records> decode_records(const record_batch_view& batch,
                                       std::size_t max_decompressed_bytes) {
  const batch_header& header = batch.header();
  if (auto r = detail::check_record_count(header); !r) return r.error();
  byte_buffer owned;
  auto stream = detail::uncompressed_records(batch, owned, max_decompressed_bytes);
  if (!stream) return stream.error();
  std::vector<record_view> records;
  const byte_span records_stream = stream.value();
  records.reserve(std::min(static_cast<std::size_t>(header.records_count),
                           records_stream.size() / min_record_size));
  detail::record_reader reader(header, records_stream);
  while (reader.index() < header.records_count) {
    if (auto r = reader.next(&records.emplace_back()); !r) return r.error();
  }
  if (auto r = reader.finish(); !r) return r.error();
  return decoded_records(std::move(owned), std::move(records));
}

}  // namespace sluice
