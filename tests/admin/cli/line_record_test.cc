#include "admin/cli/line_record.h"

#include <doctest/doctest.h>

namespace sluice::cli {

TEST_CASE("without a key separator the line is the value and the key is null") {
  auto f = split_line("user-1:clicked", "");
  CHECK_FALSE(f.key);
  CHECK(f.value == "user-1:clicked");
}

TEST_CASE("the key is the text before the first separator, the value all after it") {
  auto f = split_line("user-1::clicked::twice", "::");
  REQUIRE(f.key);
  CHECK(*f.key == "user-1");
  CHECK(f.value == "clicked::twice");
}

TEST_CASE("a line without the separator has a null key") {
  auto f = split_line("no key here", "\t");
  CHECK_FALSE(f.key);
  CHECK(f.value == "no key here");
}

TEST_CASE("an empty key or value is kept empty, not null") {
  auto f = split_line(":v", ":");
  REQUIRE(f.key);
  CHECK(f.key->empty());
  CHECK(split_line("k:", ":").value.empty());
}

TEST_CASE("line ends are stripped, CRLF included, and nothing else") {
  CHECK(strip_line_end("a b \n") == "a b ");
  CHECK(strip_line_end("crlf\r\n") == "crlf");
  CHECK(strip_line_end("last line without newline") == "last line without newline");
  CHECK(strip_line_end("\n").empty());
}

}  // namespace sluice::cli
