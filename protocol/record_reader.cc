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
// Reads return false, leaving out unchanged, when the body ends first or a varint is malformed.
// (bool + out parameter rather than std::optional: GCC spills optionals through the stack here,
// and the store-forwarding stalls doubled the cost of validate().)
class field_cursor {
 public:
  explicit field_cursor(byte_span body) : body_(body) {}

  bool varint(std::int32_t& out) { return take(decode_varint(rest()), out); }
  bool varlong(std::int64_t& out) { return take(decode_varlong(rest()), out); }

  bool bytes(std::size_t n, byte_span& out) {
    if (n > body_.size() - pos_) return false;
    out = body_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

  [[nodiscard]] std::size_t consumed() const { return pos_; }
  [[nodiscard]] std::size_t left() const { return body_.size() - pos_; }

 private:
  byte_span rest() const { return body_.subspan(pos_); }

  template <class T>
  bool take(const std::optional<decoded_varint<T>>& v, T& out) {
    if (!v) return false;
    pos_ += v->size;
    out = v->value;
    return true;
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

namespace {

// Parses one record's body. The hot path deals in bools; a sluice::error is built only when a
// record is bad (building results per field cost more than the parsing itself).
class record_parser {
 public:
  record_parser(byte_span body, std::int32_t index, std::vector<header_view>* headers)
      : c_(body), index_(index), headers_(headers) {}

  // Fills f from the whole body; false (see error()) when the body is not exactly one record.
  bool parse(record_fields& f) {
    byte_span attributes;
    if (!c_.bytes(1, attributes)) return bad("attributes byte missing");
    if (!c_.varlong(f.timestamp_delta)) return bad("timestamp delta varlong malformed or cut off");
    if (!c_.varint(f.offset_delta)) return bad("offset delta varint malformed or cut off");
    if (f.offset_delta != index_) {
      return fail(protocol_errc::bad_offset_delta,
                  fmt::format("record {} has offset delta {}, expected {}", index_, f.offset_delta,
                              index_));
    }
    if (!nullable_bytes("key", -1, f.key) || !nullable_bytes("value", -1, f.value)) return false;
    if (!parse_headers()) return false;
    if (c_.left() == 0) return true;
    return bad(fmt::format("length {} but its fields take {} bytes", c_.consumed() + c_.left(),
                           c_.consumed()));
  }

  [[nodiscard]] const error& failure() const { return error_; }

 private:
  bool fail(protocol_errc code, std::string detail) {
    error_ = make_error(code, std::move(detail));
    return false;
  }

  bool bad(const std::string& what) {
    return fail(protocol_errc::bad_record, fmt::format("record {}: {}", index_, what));
  }

  // Reads a nullable length-prefixed field; part and header (-1: not a header) name it in errors.
  bool nullable_bytes(const char* part, std::int32_t header, std::optional<byte_span>& out) {
    std::int32_t n = 0;
    if (!c_.varint(n)) return bad(field(part, header) + " length varint malformed or cut off");
    if (n == -1) {
      out.reset();
      return true;
    }
    if (n < -1) return bad(fmt::format("{} length {} is negative", field(part, header), n));
    byte_span b;
    if (!c_.bytes(static_cast<std::size_t>(n), b)) {
      return bad(fmt::format("{} length {} runs past the record ({} bytes left)",
                             field(part, header), n, c_.left()));
    }
    out.emplace(b);
    return true;
  }

  static std::string field(const char* part, std::int32_t header) {
    return header < 0 ? std::string(part) : fmt::format("header {} {}", header, part);
  }

  bool parse_headers() {
    std::int32_t count = 0;
    if (!c_.varint(count)) return bad("headers count varint malformed or cut off");
    if (count < 0) return bad(fmt::format("headers count {} is negative", count));
    for (std::int32_t i = 0; i < count; ++i) {
      std::optional<byte_span> key;
      std::optional<byte_span> value;
      if (!nullable_bytes("key", i, key)) return false;
      if (!key) return bad(fmt::format("header {} key is null (header keys are not nullable)", i));
      if (!nullable_bytes("value", i, value)) return false;
      if (headers_ != nullptr) headers_->push_back({as_string_view(*key), value});
    }
    return true;
  }

  field_cursor c_;
  std::int32_t index_;
  std::vector<header_view>* headers_;
  error error_;
};

void fill(record_view& out, const batch_header& header, const record_fields& fields) {
  out.offset = offset{wrapping_add(header.base_offset.value, fields.offset_delta)};
  out.timestamp = header.log_append_time()
                      ? header.max_timestamp
                      : wrapping_add(header.base_timestamp, fields.timestamp_delta);
  out.key = fields.key;
  out.value = fields.value;
}

}  // namespace

result<void> record_reader::next(record_view* out) {
  const byte_span rest = stream_.subspan(position_);
  const auto length = decode_varint(rest);
  if (!length) {
    return make_error(protocol_errc::bad_record,
                      fmt::format("record {} at byte {} of the record stream: length varint "
                                  "malformed or cut off ({} bytes left)",
                                  index_, position_, rest.size()));
  }
  if (length->value < 0 || static_cast<std::size_t>(length->value) > rest.size() - length->size) {
    return make_error(protocol_errc::bad_record,
                      fmt::format("record {} at byte {} of the record stream: length {} does not "
                                  "fit the {} bytes left",
                                  index_, position_, length->value, rest.size() - length->size));
  }
  const auto body_size = static_cast<std::size_t>(length->value);
  if (out != nullptr) out->headers.clear();
  record_parser parser(rest.subspan(length->size, body_size), index_,
                       out != nullptr ? &out->headers : nullptr);
  record_fields fields;
  if (!parser.parse(fields)) return parser.failure();
  if (out != nullptr) fill(*out, header_, fields);
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
