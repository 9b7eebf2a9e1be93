#include "consumer/record_decoding.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/errc.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"

namespace sluice::consumer_detail {
namespace {

error about(const topic_partition& tp, const error& e) {
  return error{e.code, fmt::format("{}-{}: {}", tp.topic, tp.partition, e.detail)};
}

std::optional<std::string_view> to_view(const std::optional<byte_span>& b) {
  if (!b) return std::nullopt;
  return as_string_view(*b);
}

void append_records(const decoded_records& decoded, const topic_partition& tp,
                    std::int64_t position, const std::shared_ptr<const void>& owner,
                    std::vector<consumer_record>& out) {
  for (const record_view& v : decoded.records()) {
    if (v.offset.value < position) continue;
    consumer_record& r = out.emplace_back();
    r.topic = tp.topic;
    r.partition = tp.partition;
    r.offset = v.offset.value;
    r.timestamp = v.timestamp;
    r.key = to_view(v.key);
    r.value = to_view(v.value);
    if (!v.headers.empty()) {
      r.headers.reserve(v.headers.size());
      for (const header_view& h : v.headers) r.headers.emplace_back(h.key, to_view(h.value));
    }
    r.bytes = owner;
  }
}

// Checks and decodes one batch that holds records at or after position. The records point into
// the batch bytes, which `owner` keeps alive, or into the decompressed records they then share.
result<void> decode_batch(const record_batch_view& batch, const topic_partition& tp,
                          std::int64_t position, bool check_crcs,
                          const std::shared_ptr<const void>& owner,
                          std::vector<consumer_record>& out) {
  if (check_crcs) {
    if (const auto computed = batch.computed_crc(); computed != batch.header().crc) {
      return make_error(protocol_errc::bad_crc,
                        fmt::format("batch at offset {} ({} bytes): stored CRC {:#010x}, "
                                    "computed {:#010x}",
                                    batch.header().base_offset, batch.bytes().size(),
                                    batch.header().crc, computed));
    }
  }
  auto decoded = decode_records(batch);
  if (!decoded) {
    return error{
        decoded.error().code,
        fmt::format("batch at offset {}: {}", batch.header().base_offset, decoded.error().detail)};
  }
  if (decoded->owns_bytes()) {
    auto kept = std::make_shared<const decoded_records>(std::move(*decoded));
    append_records(*kept, tp, position, kept, out);
  } else {
    append_records(*decoded, tp, position, owner, out);
  }
  return {};
}

// The records the headers of the whole batches in `bytes` announce, at most as many as the
// bytes can hold (a header may lie; decoding checks it).
std::size_t records_announced(byte_span bytes) {
  constexpr std::size_t min_record_bytes = 7;  // a length, attributes and five empty varints
  batch_reader reader(bytes);
  std::size_t announced = 0;
  for (;;) {
    auto batch = reader.next();
    if (!batch || !*batch) break;
    announced += static_cast<std::size_t>(std::max(0, (*batch)->header().records_count));
  }
  return std::min(announced, bytes.size() / min_record_bytes);
}

}  // namespace

std::vector<byte_span> split_at_batches(byte_span bytes, std::size_t max_records) {
  std::vector<byte_span> pieces;
  batch_reader reader(bytes);
  std::size_t piece_start = 0;
  std::size_t piece_records = 0;
  for (;;) {
    const std::size_t batch_start = reader.position();
    auto batch = reader.next();
    if (!batch || !*batch) break;
    const auto count = static_cast<std::size_t>(std::max(0, (*batch)->header().records_count));
    if (batch_start > piece_start && piece_records + count > max_records) {
      pieces.push_back(bytes.subspan(piece_start, batch_start - piece_start));
      piece_start = batch_start;
      piece_records = 0;
    }
    piece_records += count;
  }
  pieces.push_back(bytes.subspan(piece_start));  // with what follows the last whole batch
  return pieces;
}

std::int64_t next_fetch_offset(byte_span bytes, std::int64_t position) {
  batch_reader reader(bytes);
  std::int64_t next = position;
  for (;;) {
    auto batch = reader.next();
    if (!batch || !*batch) return next;
    next = std::max(next, (*batch)->header().next_offset().value);
  }
}

decode_outcome decode_fetched_batches(byte_span bytes,
                                      const std::shared_ptr<const void>& bytes_owner,
                                      const topic_partition& tp, std::int64_t position,
                                      bool check_crcs, std::vector<consumer_record>& out) {
  decode_outcome outcome{.next_offset = position, .failure = std::nullopt};
  // Growing `out` record by record would move every record several times.
  out.reserve(out.size() + records_announced(bytes));
  batch_reader reader(bytes);
  for (;;) {
    auto batch = reader.next();
    if (!batch) {
      outcome.failure = about(
          tp, error{batch.error().code,
                    fmt::format("fetched bytes at position {} after offset "
                                "{}: {}",
                                reader.position(), outcome.next_offset, batch.error().detail)});
      return outcome;
    }
    if (!*batch) break;
    const batch_header& h = (*batch)->header();
    if (h.next_offset().value <= position || h.is_control()) {
      outcome.next_offset = std::max(outcome.next_offset, h.next_offset().value);
      continue;
    }
    if (auto r = decode_batch(**batch, tp, position, check_crcs, bytes_owner, out); !r) {
      outcome.next_offset = std::max(position, h.base_offset.value);
      outcome.failure = about(tp, r.error());
      return outcome;
    }
    outcome.next_offset = h.next_offset().value;
  }
  if (reader.position() == 0 && !bytes.empty()) {
    outcome.failure = about(
        tp, make_error(protocol_errc::batch_truncated,
                       fmt::format("fetch from offset {} returned {} bytes without a whole batch",
                                   position, bytes.size())));
  }
  return outcome;
}

std::size_t record_footprint(const consumer_record& r) {
  std::size_t n =
      sizeof(consumer_record) + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (const auto& [k, v] : r.headers) {
    n += sizeof(std::pair<std::string_view, std::optional<std::string_view>>) + k.size() +
         (v ? v->size() : 0);
  }
  return n;
}

}  // namespace sluice::consumer_detail
