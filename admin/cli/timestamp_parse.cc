#include "admin/cli/timestamp_parse.h"

#include <date/date.h>
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>

#include "protocol/client/client_errc.h"

namespace sluice::cli {

namespace {

// Parsed to microseconds (finer digits are dropped first, normalize_fraction), then cut to the
// milliseconds records carry.
using us_time = date::sys_time<std::chrono::microseconds>;

std::optional<std::int64_t> parse_epoch_ms(std::string_view text) {
  std::int64_t ms = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, ms);
  if (ec != std::errc() || ptr != end || ms < 0) return std::nullopt;
  return ms;
}

// Fractional seconds as parse_with reads them: a comma as the decimal separator
// (`date -Ins`: "03:24:04,123456789+00:00") becomes a point, and digits past microseconds
// (nanoseconds and finer) are dropped: cutting digits off a fraction is flooring, as below.
std::string normalize_fraction(std::string_view text) {
  std::string s(text);
  const auto t = s.find('T');
  if (t == std::string::npos) return s;
  auto digit_at = [&](std::size_t i) {
    return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0;
  };
  const auto sep = s.find_first_of(".,", t);
  if (sep == std::string::npos || !digit_at(sep - 1) || !digit_at(sep + 1)) return s;
  s[sep] = '.';
  auto end = sep + 1;
  while (digit_at(end)) ++end;
  constexpr std::size_t kept_digits = 6;  // us_time's precision
  if (end - (sep + 1) > kept_digits) s.erase(sep + 1 + kept_digits, end - (sep + 1 + kept_digits));
  return s;
}

// One format, which must consume the whole text.
std::optional<std::int64_t> parse_with(const std::string& text, const char* format) {
  std::istringstream in(text);
  us_time t;
  in >> date::parse(format, t);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

result<std::int64_t> parse_timestamp_ms(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    if (auto ms = parse_epoch_ms(text)) return *ms;
  }
  // %T reads fractional seconds into the millisecond time point; %Ez reads "+02:00".
  static constexpr std::array formats{"%FT%T%Ez", "%FT%T%z", "%FT%TZ", "%FT%T",
                                      "%FT%R%Ez", "%FT%RZ",  "%FT%R",  "%F"};
  const std::string s = normalize_fraction(text);
  for (const char* format : formats) {
    auto ms = parse_with(s, format);
    if (!ms) continue;
    if (*ms < 0) {
      return make_error(client_errc::invalid_argument,
                        fmt::format("'{}' is before 1970-01-01T00:00:00Z, where record "
                                    "timestamps start",
                                    text));
    }
    return *ms;
  }
  return make_error(client_errc::invalid_argument,
                    fmt::format("'{}' is not a time: give milliseconds since the epoch or "
                                "ISO-8601 such as 2024-05-01T12:30:00Z",
                                text));
}

}  // namespace sluice::cli
