#include "segment/tools/byte_format.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace sluice::log_tool {

namespace {

// A multi-byte UTF-8 sequence by its lead byte: its length and the allowed range of its second
// byte (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
struct utf8_lead {
  std::size_t length;
  unsigned second_lo;
  unsigned second_hi;
};

std::optional<utf8_lead> classify_lead(unsigned lead) {
  if (lead >= 0xc2 && lead <= 0xdf) return utf8_lead{2, 0x80, 0xbf};
  if (lead == 0xe0) return utf8_lead{3, 0xa0, 0xbf};
  if (lead == 0xed) return utf8_lead{3, 0x80, 0x9f};
  if (lead >= 0xe1 && lead <= 0xef) return utf8_lead{3, 0x80, 0xbf};
  if (lead == 0xf0) return utf8_lead{4, 0x90, 0xbf};
  if (lead == 0xf4) return utf8_lead{4, 0x80, 0x8f};
  if (lead >= 0xf1 && lead <= 0xf3) return utf8_lead{4, 0x80, 0xbf};
  return std::nullopt;
}

// Length of the UTF-8 sequence starting at bytes[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(byte_span bytes, std::size_t i) {
  const auto at = [&](std::size_t k) { return std::to_integer<unsigned>(bytes[k]); };
  if (at(i) < 0x80) return 1;
  const auto lead = classify_lead(at(i));
  if (!lead || i + lead->length > bytes.size()) return 0;
  if (at(i + 1) < lead->second_lo || at(i + 1) > lead->second_hi) return 0;
  for (std::size_t k = 2; k < lead->length; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return lead->length;
}

bool is_utf8(byte_span bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t len = utf8_sequence_length(bytes, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool has_control_characters(byte_span bytes) {
  for (std::byte b : bytes) {
    const unsigned c = std::to_integer<unsigned>(b);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool is_printable_text(byte_span bytes) {
  return !has_control_characters(bytes) && is_utf8(bytes);
}

std::string to_hex(byte_span bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const unsigned v = std::to_integer<unsigned>(b);
    out += digits[v >> 4];
    out += digits[v & 0xf];
  }
  return out;
}

std::string display_bytes(const std::optional<byte_span>& bytes) {
  if (!bytes) return "null";
  if (!is_printable_text(*bytes)) return "0x" + to_hex(*bytes);
  std::string out = "\"";
  for (char c : as_string_view(*bytes)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string json_bytes_member(std::string_view name, const std::optional<byte_span>& bytes) {
  if (!bytes) return fmt::format("\"{}\":null", name);
  if (is_utf8(*bytes)) return fmt::format("\"{}\":{}", name, json_string(as_string_view(*bytes)));
  return fmt::format("\"{}_hex\":\"{}\"", name, to_hex(*bytes));
}

}  // namespace sluice::log_tool
