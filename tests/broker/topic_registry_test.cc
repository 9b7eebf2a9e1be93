#include "broker/topic_registry.h"

#include <doctest/doctest.h>

#include "broker/errc.h"
#include "tests/broker/test_dir.h"
#include "tests/result_printer.h"

using namespace sluice;

TEST_CASE("created topics are persisted and visible after a reload") {
  test::scratch_dir dir;
  {
    topic_registry reg(dir.path(), log_config{});
    REQUIRE(reg.load());
    auto t = reg.create("events", 4, {{"retention.ms", "1000"}}, false, 123);
    REQUIRE(t);
    CHECK(t->config.retention_ms.count() == 1000);
    CHECK(reg.snapshot()->contains("events"));
  }
  topic_registry again(dir.path(), log_config{});
  REQUIRE(again.load());
  auto snap = again.snapshot();
  REQUIRE(snap->contains("events"));
  CHECK(snap->at("events").record.partitions == 4);
  CHECK(snap->at("events").config.retention_ms.count() == 1000);
}

TEST_CASE("creating refuses duplicates, bad names, bad partition counts and bad configs") {
  test::scratch_dir dir;
  topic_registry reg(dir.path(), log_config{});
  REQUIRE(reg.load());
  REQUIRE(reg.create("t", 1, {}, false, 0));
  CHECK(reg.create("t", 1, {}, false, 0).error().code == broker_errc::topic_already_exists);
  CHECK(reg.create("bad/name", 1, {}, false, 0).error().code == broker_errc::invalid_topic_name);
  CHECK(reg.create("u", 0, {}, false, 0).error().code == broker_errc::invalid_partition_count);
  CHECK(reg.create("u", 10'001, {}, false, 0).error().code == broker_errc::invalid_partition_count);
  CHECK(reg.create("u", 1, {{"nope", "1"}}, false, 0).error().code == broker_errc::invalid_config);
  CHECK(reg.snapshot()->size() == 1);
}

TEST_CASE("validate_only checks everything and changes nothing") {
  test::scratch_dir dir;
  topic_registry reg(dir.path(), log_config{});
  REQUIRE(reg.load());
  REQUIRE(reg.create("t", 2, {}, true, 0));
  CHECK(reg.snapshot()->empty());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "topics.meta"));
}

TEST_CASE("alter sets and resets overrides, all or nothing") {
  test::scratch_dir dir;
  topic_registry reg(dir.path(), log_config{});
  REQUIRE(reg.load());
  REQUIRE(reg.create("t", 1, {{"retention.ms", "5"}}, false, 0));
  auto bad = reg.alter("t", {{"segment.bytes", "1"}}, {}, false);
  REQUIRE_FALSE(bad);
  CHECK(reg.snapshot()->at("t").record.overrides.at("retention.ms") == "5");
  auto ok = reg.alter("t", {{"flush", "interval:50"}}, {"retention.ms"}, false);
  REQUIRE(ok);
  const auto& info = reg.snapshot()->at("t");
  CHECK_FALSE(info.record.overrides.contains("retention.ms"));
  CHECK(info.config.flush.interval.count() == 50);
  CHECK(reg.alter("missing", {}, {}, false).error().code == broker_errc::unknown_topic);
  CHECK(reg.alter("t", {}, {"not.a.config"}, false).error().code == broker_errc::invalid_config);
  // Set and reset at once contradict each other: refused, naming the config.
  auto both = reg.alter("t", {{"retention.ms", "7"}}, {"retention.ms"}, false);
  REQUIRE_FALSE(both);
  CHECK(both.error().code == broker_errc::invalid_config);
  CHECK(both.error().detail.find("'retention.ms' is both set and reset") != std::string::npos);
}

TEST_CASE("removed topics are gone after a reload") {
  test::scratch_dir dir;
  {
    topic_registry reg(dir.path(), log_config{});
    REQUIRE(reg.load());
    REQUIRE(reg.create("t", 1, {}, false, 0));
    REQUIRE(reg.remove("t"));
    CHECK(reg.remove("t").error().code == broker_errc::unknown_topic);
  }
  topic_registry again(dir.path(), log_config{});
  REQUIRE(again.load());
  CHECK(again.snapshot()->empty());
}
