#include "protocol/record_reader.h"

#include <fmt/format.h>

#include <optional>
#include <string>

#include "protocol/compression.h"
#include "protocol/errc.h"
#include "protocol/varint.h"

namespace sluice::detail {
namespace {

// Bounds-checked reads from one record's body (the Length bytes after its Length varint).
class field_cursor {
 public:
  explicit field_cursor(byte_span body) : body_(body) {}

  std::optional<std::int32_t> varint() { return take(decode_varint(rest())); }
  std::optional<std::int64_t> varlong() { return take(decode_varlong(rest())); }

  std::optional<byte_span> bytes(std::size_t n) {
    if (n > body_.size() - pos_) return std::nullopt;
    const byte_span b = body_.subspan(pos_, n);
    pos_ += n;
    return b;
  }

  [[nodiscard]] std::size_t consumed() const { return pos_; }
  [[nodiscard]] std::size_t left() const { return body_.size() - pos_; }

 private:
  byte_span rest() const { return body_.subspan(pos_); }

  template <class T>
  std::optional<T> take(std::optional<decoded_varint<T>> v) {
    if (!v) return std::nullopt;
    pos_ += v->size;
    return v->value;
  }

  byte_span body_;
  std::size_t pos_ = 0;
};

// What one record's body holds besides the headers.
struct record_fields {
  std::int64_t timestamp_delta = 0;
  std::int32_t offset_delta = 0;
  std::optional<byte_span> key;
  std::optional<byte_span> value;
};

// Corrupt headers may hold any base offset or timestamp: wrap instead of overflowing.
std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

}  // namespace

result<void> check_record_count(const batch_header& h) {
  if (h.records_count <= 0) {
    return make_error(
        protocol_errc::bad_record_count,
        fmt::format("records_count is {}; a batch holds at least one record", h.records_count));
  }
  if (std::int64_t{h.last_offset_delta} + 1 != h.records_count) {
    return make_error(protocol_errc::bad_record_count,
                      fmt::format("records_count is {} but last_offset_delta is {} (expected "
                                  "records_count = last_offset_delta + 1)",
                                  h.records_count, h.last_offset_delta));
  }
  return {};
}

result<byte_span> uncompressed_records(const record_batch_view& batch, byte_buffer& owned,
                                       std::size_t max_decompressed_bytes) {
  const compression codec = batch.header().codec();
  if (codec == compression::none) return batch.records_bytes();
  if (codec != compression::zstd) {
    return make_error(protocol_errc::unsupported_compression,
                      fmt::format("compression codec {} is not decoded here (only none=0 and "
                                  "zstd=4)",
                                  static_cast<int>(codec)));
  }
  auto decompressed = zstd_decompress(batch.records_bytes(), max_decompressed_bytes);
  if (!decompressed) return decompressed.error();
  owned = std::move(decompressed).value();
  return byte_span(owned);
}

class record_parser {
 public:
  record_parser(field_cursor& c, std::int32_t index, std::vector<header_view>* headers)
      : c_(c), index_(index), headers_(headers) {}

  result<record_fields> parse() {
    record_fields f;
    if (!c_.bytes(1)) return bad("attributes byte missing");
    const auto ts = c_.varlong();
    if (!ts) return bad("timestamp delta varlong malformed or cut off");
    const auto delta = c_.varint();
    if (!delta) return bad("offset delta varint malformed or cut off");
    if (*delta != index_) {
      return make_error(
          protocol_errc::bad_offset_delta,
          fmt::format("record {} has offset delta {}, expected {}", index_, *delta, index_));
    }
    f.timestamp_delta = *ts;
    f.offset_delta = *delta;
    auto key = nullable_bytes("key");
    if (!key) return key.error();
    auto value = nullable_bytes("value");
    if (!value) return value.error();
    f.key = key.value();
    f.value = value.value();
    if (auto r = parse_headers(); !r) return r.error();
    return f;
  }

 private:
  error bad(const std::string& what) const {
    return make_error(protocol_errc::bad_record, fmt::format("record {}: {}", index_, what));
  }

  result<std::optional<byte_span>> nullable_bytes(const std::string& what) {
    const auto n = c_.varint();
    if (!n) return bad(what + " length varint malformed or cut off");
    if (*n == -1) return std::optional<byte_span>{};
    if (*n < -1) return bad(fmt::format("{} length {} is negative", what, *n));
    const auto b = c_.bytes(static_cast<std::size_t>(*n));
    if (!b)
      return bad(
          fmt::format("{} length {} runs past the record ({} bytes left)", what, *n, c_.left()));
    return std::optional<byte_span>{*b};
  }

  result<void> parse_headers() {
    const auto count = c_.varint();
    if (!count) return bad("headers count varint malformed or cut off");
    if (*count < 0) return bad(fmt::format("headers count {} is negative", *count));
    for (std::int32_t i = 0; i < *count; ++i) {
      const std::string name = fmt::format("header {} key", i);
      auto key = nullable_bytes(name);
      if (!key) return key.error();
      if (!key.value()) return bad(name + " is null (header keys are not nullable)");
      auto value = nullable_bytes(fmt::format("header {} value", i));
      if (!value) return value.error();
      if (headers_ != nullptr) headers_->push_back({as_string_view(*key.value()), value.value()});
    }
    return {};
  }

  field_cursor& c_;
  std::int32_t index_;
  std::vector<header_view>* headers_;
};

result<void> record_reader::next(record_view* out) {
  const byte_span rest = stream_.subspan(position_);
  const auto length = decode_varint(rest);
  if (!length || length->value < 0 ||
      static_cast<std::size_t>(length->value) > rest.size() - length->size) {
    return make_error(
        protocol_errc::bad_record,
        fmt::format("record {} at byte {} of the record stream: length {} does not "
                    "fit the {} bytes left",
                    index_, position_, length ? fmt::to_string(length->value) : "varint malformed",
                    rest.size()));
  }
  const auto body_size = static_cast<std::size_t>(length->value);
  field_cursor c(rest.subspan(length->size, body_size));
  if (out != nullptr) out->headers.clear();
  auto parsed = record_parser(c, index_, out ? &out->headers : nullptr).parse();
  if (!parsed) return parsed.error();
  const record_fields& fields = parsed.value();
  if (c.left() != 0) {
    return make_error(protocol_errc::bad_record,
                      fmt::format("record {}: length {} but its fields take {} bytes", index_,
                                  body_size, c.consumed()));
  }
  if (out != nullptr) {
    out->offset = offset{wrapping_add(header_.base_offset.value, fields.offset_delta)};
    out->timestamp = header_.log_append_time()
                         ? header_.max_timestamp
                         : wrapping_add(header_.base_timestamp, fields.timestamp_delta);
    out->key = fields.key;
    out->value = fields.value;
  }
  position_ += length->size + body_size;
  ++index_;
  return {};
}

result<void> record_reader::finish() const {
  if (position_ == stream_.size()) return {};
  return make_error(protocol_errc::bad_record,
                    fmt::format("{} bytes left over after the last of {} records",
                                stream_.size() - position_, index_));
}

}  // namespace sluice::detail
