#include "broker/topic_config.h"

#include <doctest/doctest.h>

#include "broker/errc.h"
#include "tests/result_printer.h"

using namespace sluice;

TEST_CASE("overrides apply over the defaults") {
  auto c = apply_overrides(log_config{}, {{"retention.ms", "60000"},
                                          {"segment.bytes", "1048576"},
                                          {"flush", "interval:100"},
                                          {"max.message.bytes", "2000000"},
                                          {"page.cache.keep.bytes", "-1"}});
  REQUIRE(c);
  CHECK(c->page_cache_keep_bytes == -1);
  CHECK(c->retention_ms.count() == 60000);
  CHECK(c->segment_bytes == 1048576);
  CHECK(c->flush.kind == flush_policy::mode::interval);
  CHECK(c->flush.interval.count() == 100);
  CHECK(c->max_message_bytes == 2000000);
  CHECK(c->retention_bytes == log_config{}.retention_bytes);
}

TEST_CASE("an unknown config name is refused and the known ones are listed") {
  auto c = apply_overrides(log_config{}, {{"retention.mss", "1"}});
  REQUIRE_FALSE(c);
  CHECK(c.error().code == broker_errc::invalid_config);
  CHECK(c.error().detail.find("retention.mss") != std::string::npos);
  CHECK(c.error().detail.find("retention.ms,") != std::string::npos);
}

TEST_CASE("a value that does not parse or is out of range names the key") {
  auto not_number = apply_overrides(log_config{}, {{"segment.bytes", "12abc"}});
  REQUIRE_FALSE(not_number);
  CHECK(not_number.error().detail.find("segment.bytes") != std::string::npos);
  auto too_small = apply_overrides(log_config{}, {{"segment.bytes", "10"}});
  REQUIRE_FALSE(too_small);
  CHECK(too_small.error().code == broker_errc::invalid_config);
  CHECK(too_small.error().detail.find("segment.bytes") != std::string::npos);
  auto bad_flush = apply_overrides(log_config{}, {{"flush", "sometimes"}});
  REQUIRE_FALSE(bad_flush);
  CHECK(bad_flush.error().detail.find("flush") != std::string::npos);
  auto bad_keep = apply_overrides(log_config{}, {{"page.cache.keep.bytes", "-5"}});
  REQUIRE_FALSE(bad_keep);
  CHECK(bad_keep.error().detail.find("page.cache.keep.bytes must be -1 or >= 0") !=
        std::string::npos);
}

TEST_CASE("describe lists every config with its value and whether it is a default") {
  auto entries = describe_config(log_config{}, {{"retention.ms", "1000"}});
  REQUIRE(entries.size() == topic_config_names().size());
  bool saw_retention = false;
  for (const auto& e : entries) {
    if (e.name == "retention.ms") {
      saw_retention = true;
      CHECK(e.value == "1000");
      CHECK_FALSE(e.is_default);
    } else {
      CHECK(e.is_default);
    }
    if (e.name == "flush") CHECK(e.value == "always");
  }
  CHECK(saw_retention);
}
