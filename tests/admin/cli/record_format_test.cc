#include "admin/cli/record_format.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace sluice::cli {

namespace {

consumer_record sample_record() {
  return {.topic = "events",
          .partition = 2,
          .offset = 41,
          .timestamp = 1'714'566'600'000,
          .key = "user-1",
          .value = "clicked",
          .headers = {{"trace", "abc"}, {"trace", std::nullopt}}};
}

}  // namespace

TEST_CASE("text prints the value alone by default") {
  CHECK(format_text(sample_record(), {}) == "clicked");
}

TEST_CASE("text with --print-key and --print-offset puts them before the value") {
  const text_format f{.print_key = true, .print_offset = true, .separator = "\t"};
  CHECK(format_text(sample_record(), f) == "Partition:2\tOffset:41\tuser-1\tclicked");
  const text_format comma{.print_key = true, .print_offset = false, .separator = ","};
  CHECK(format_text(sample_record(), comma) == "user-1,clicked");
}

TEST_CASE("a null key or value prints as null in text") {
  auto r = sample_record();
  r.key.reset();
  r.value.reset();
  CHECK(format_text(r, {.print_key = true, .print_offset = false, .separator = "\t"}) ==
        "null\tnull");
}

TEST_CASE("json carries every field, headers as a list that may repeat a name") {
  const auto j = nlohmann::json::parse(format_json(sample_record()));
  CHECK(j["topic"] == "events");
  CHECK(j["partition"] == 2);
  CHECK(j["offset"] == 41);
  CHECK(j["timestamp"] == 1'714'566'600'000);
  CHECK(j["key"] == "user-1");
  CHECK(j["value"] == "clicked");
  REQUIRE(j["headers"].size() == 2);
  CHECK(j["headers"][0]["key"] == "trace");
  CHECK(j["headers"][0]["value"] == "abc");
  CHECK(j["headers"][1]["value"].is_null());
}

TEST_CASE("json is one line, with null for a null key and value") {
  auto r = sample_record();
  r.key.reset();
  r.value.reset();
  r.headers.clear();
  const auto line = format_json(r);
  CHECK(line.find('\n') == std::string::npos);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["key"].is_null());
  CHECK(j["value"].is_null());
  CHECK(j["headers"].empty());
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD instead of failing") {
  auto r = sample_record();
  const std::string not_utf8(
      "a\xff"
      "b");
  r.value = not_utf8;
  const auto j = nlohmann::json::parse(format_json(r));
  CHECK(j["value"] ==
        "a\xEF\xBF\xBD"
        "b");
}

}  // namespace sluice::cli
