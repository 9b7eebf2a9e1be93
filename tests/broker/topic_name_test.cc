#include "broker/topic_name.h"

#include <doctest/doctest.h>

#include <string>

#include "broker/errc.h"
#include "tests/result_printer.h"

using namespace sluice;

TEST_CASE("topic names of letters, digits, dot, underscore and dash are valid") {
  CHECK(validate_topic_name("events"));
  CHECK(validate_topic_name("orders.v2_eu-west"));
  CHECK(validate_topic_name(std::string(max_topic_name_length, 'a')));
}

TEST_CASE("bad topic names are refused with the reason") {
  auto check_bad = [](std::string_view name, std::string_view says) {
    auto r = validate_topic_name(name);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == broker_errc::invalid_topic_name);
    CHECK(r.error().detail.find(says) != std::string::npos);
  };
  check_bad("", "empty");
  check_bad(".", "not allowed");
  check_bad("..", "not allowed");
  check_bad("a/b", "'/'");
  check_bad("with space", "' '");
  check_bad(std::string(max_topic_name_length + 1, 'a'), "limit is 249");
}
