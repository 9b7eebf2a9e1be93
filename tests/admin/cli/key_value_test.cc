#include "admin/cli/key_value.h"

#include <doctest/doctest.h>

namespace sluice::cli {

TEST_CASE("NAME=VALUE splits at the first '=' so values may contain '='") {
  auto kv = parse_key_value("flush=interval:100", "--config").value();
  CHECK(kv.key == "flush");
  CHECK(kv.value == "interval:100");
  auto eq = parse_key_value("expr=a=b", "--header").value();
  CHECK(eq.key == "expr");
  CHECK(eq.value == "a=b");
}

TEST_CASE("an empty value is allowed") {
  auto kv = parse_key_value("trace=", "--header").value();
  CHECK(kv.key == "trace");
  CHECK(kv.value.empty());
}

TEST_CASE("no '=' or an empty name is refused, naming the option and the argument") {
  auto missing = parse_key_value("retention.ms", "--config");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().detail.find("--config 'retention.ms'") != std::string::npos);
  CHECK_FALSE(parse_key_value("=5", "--config").has_value());
}

TEST_CASE("a config map refuses a name given twice") {
  auto ok = parse_config_map({"retention.ms=1000", "segment.bytes=4096"}, "--config").value();
  CHECK(ok.size() == 2);
  CHECK(ok.at("segment.bytes") == "4096");
  auto twice = parse_config_map({"retention.ms=1", "retention.ms=2"}, "--config");
  REQUIRE_FALSE(twice.has_value());
  CHECK(twice.error().detail.find("retention.ms given twice") != std::string::npos);
}

}  // namespace sluice::cli
