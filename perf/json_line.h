#pragma once
// One flat JSON object on one line, for scripts that collect benchmark figures: string, integer
// and floating-point members only. Strings are escaped per RFC 8259; non-finite numbers become
// null (JSON has no NaN or infinity).

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::bench {

class json_line {
 public:
  json_line& add(std::string_view key, std::string_view value);
  json_line& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  json_line& add(std::string_view key, double value);
  template <std::integral T>
  requires(!std::same_as<T, bool>) json_line& add(std::string_view key, T value) {
    return add_raw(key, std::to_string(value));
  }

  // "{...}" without a trailing newline.
  [[nodiscard]] std::string str() const { return "{" + body_ + "}"; }

 private:
  json_line& add_raw(std::string_view key, std::string_view json_value);

  std::string body_;
};

// `s` as a JSON string literal, quotes included.
[[nodiscard]] std::string json_quote(std::string_view s);

}  // namespace sluice::bench
