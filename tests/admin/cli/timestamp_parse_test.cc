#include "admin/cli/timestamp_parse.h"

#include <doctest/doctest.h>

namespace sluice::cli {

// 2024-05-01T12:30:00Z
constexpr std::int64_t may_first_1230 = 1'714'566'600'000;

TEST_CASE("digits are milliseconds since the epoch") {
  CHECK(parse_timestamp_ms("0").value() == 0);
  CHECK(parse_timestamp_ms("1714566600000").value() == may_first_1230);
}

TEST_CASE("ISO-8601 without an offset is UTC") {
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00").value() == may_first_1230);
  CHECK(parse_timestamp_ms("2024-05-01T12:30").value() == may_first_1230);
  CHECK(parse_timestamp_ms("2024-05-01").value() == may_first_1230 - 45'000'000);
}

TEST_CASE("ISO-8601 with Z, an offset, and fractional seconds") {
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00Z").value() == may_first_1230);
  CHECK(parse_timestamp_ms("2024-05-01T14:30:00+02:00").value() == may_first_1230);
  CHECK(parse_timestamp_ms("2024-05-01T07:30:00-0500").value() == may_first_1230);
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00.250Z").value() == may_first_1230 + 250);
  CHECK(parse_timestamp_ms("2024-05-01T12:30Z").value() == may_first_1230);
  // Finer than milliseconds (date +%FT%T.%6NZ): cut to the millisecond.
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00.123456Z").value() == may_first_1230 + 123);
}

TEST_CASE("fractional seconds of any length and with a comma are cut to milliseconds") {
  // Nanoseconds (date +%FT%T.%NZ) and finer.
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00.123456789Z").value() == may_first_1230 + 123);
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00.999999999999Z").value() == may_first_1230 + 999);
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00.5").value() == may_first_1230 + 500);
  // A comma for the point, as `date -Ins` prints it.
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00,123456789+00:00").value() == may_first_1230 + 123);
  CHECK(parse_timestamp_ms("2024-05-01T14:30:00,25+02:00").value() == may_first_1230 + 250);
  CHECK(parse_timestamp_ms("2024-05-01T12:30:00,123Z").value() == may_first_1230 + 123);
  for (const char* bad :
       {"2024-05-01T12:30:00,Z", "2024-05-01T12:30:00.123456789Zjunk", "2024-05-01T12:30:00,,1Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_timestamp_ms(bad).has_value());
  }
}

TEST_CASE("a time before 1970 is refused, saying so") {
  for (const char* early : {"1969-12-31", "1970-01-01T00:00:00.001+01:00"}) {
    CAPTURE(early);
    auto r = parse_timestamp_ms(early);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().detail.find("before 1970") != std::string::npos);
  }
  CHECK(parse_timestamp_ms("1970-01-01T00:00:00Z").value() == 0);
}

TEST_CASE("anything else is refused with a hint of what is accepted") {
  for (const char* bad : {"", "yesterday", "2024-05-01T12:30:00Zjunk", "-5", "12ab", "2024-13-01",
                          "2024-05-01 12:30"}) {
    CAPTURE(bad);
    auto r = parse_timestamp_ms(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().detail.find("ISO-8601") != std::string::npos);
  }
}

}  // namespace sluice::cli
