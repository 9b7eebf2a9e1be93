// How sluice-log shows record keys and values.

#include "segment/tools/byte_format.h"

#include <doctest/doctest.h>

namespace sluice::log_tool {

namespace {

std::optional<byte_span> bytes(std::string_view s) {
  return as_bytes(s);
}

}  // namespace

TEST_CASE("printable text is shown in quotes with quotes and backslashes escaped") {
  CHECK(display_bytes(bytes("hello world")) == "\"hello world\"");
  CHECK(display_bytes(bytes("say \"hi\" \\o/")) == R"("say \"hi\" \\o/")");
  CHECK(display_bytes(bytes("h\xc3\xa9llo")) == "\"h\xc3\xa9llo\"");  // UTF-8 as it is
}

TEST_CASE("null, control characters and invalid UTF-8 are shown as null and hex") {
  CHECK(display_bytes(std::nullopt) == "null");
  CHECK(display_bytes(bytes(std::string_view("a\0b", 3))) == "0x610062");
  CHECK(display_bytes(bytes("line\n")) == "0x6c696e650a");
  CHECK(display_bytes(bytes("\xc3")) == "0xc3");              // truncated sequence
  CHECK(display_bytes(bytes("\xed\xa0\x80")) == "0xeda080");  // a surrogate
  CHECK(display_bytes(bytes("\xc0\xaf")) == "0xc0af");        // overlong
}

TEST_CASE("JSON output escapes text and falls back to a _hex member for non-UTF-8") {
  CHECK(json_bytes_member("value", bytes("a\"b\n")) == R"("value":"a\"b\n")");
  CHECK(json_bytes_member("value", bytes(std::string_view("\x01", 1))) == R"("value":"\u0001")");
  CHECK(json_bytes_member("key", bytes("\xff")) == R"("key_hex":"ff")");
  CHECK(json_bytes_member("key", std::nullopt) == R"("key":null)");
}

}  // namespace sluice::log_tool
