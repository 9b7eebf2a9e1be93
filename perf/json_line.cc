#include "perf/json_line.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

namespace sluice::bench {

namespace {

// RFC 8259's two-character escapes; other control characters become \u00XX.
constexpr std::array<std::pair<char, std::string_view>, 7> short_escapes{{{'"', "\\\""},
                                                                          {'\\', "\\\\"},
                                                                          {'\b', "\\b"},
                                                                          {'\f', "\\f"},
                                                                          {'\n', "\\n"},
                                                                          {'\r', "\\r"},
                                                                          {'\t', "\\t"}}};

void append_escaped(std::string& out, char c) {
  for (const auto& [raw, escaped] : short_escapes) {
    if (c == raw) {
      out += escaped;
      return;
    }
  }
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20) {
    out += fmt::format("\\u{:04x}", static_cast<unsigned>(u));
  } else {
    out += c;  // bytes >= 0x80 pass through: UTF-8 stays UTF-8
  }
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) append_escaped(out, c);
  return out + "\"";
}

json_line& json_line::add(std::string_view key, std::string_view value) {
  return add_raw(key, json_quote(value));
}

json_line& json_line::add(std::string_view key, double value) {
  if (!std::isfinite(value)) return add_raw(key, "null");
  return add_raw(key, fmt::format("{:.3f}", value));
}

json_line& json_line::add_raw(std::string_view key, std::string_view json_value) {
  if (!body_.empty()) body_ += ",";
  body_ += json_quote(key);
  body_ += ":";
  body_ += json_value;
  return *this;
}

}  // namespace sluice::bench
