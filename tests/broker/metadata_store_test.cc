#include "broker/metadata_store.h"

#include <doctest/doctest.h>

#include <fstream>

#include "segment/errc.h"
#include "tests/broker/test_dir.h"
#include "tests/result_printer.h"

using namespace sluice;

TEST_CASE("a new data directory has no topics and no broker record") {
  test::scratch_dir dir;
  auto topics = load_topics(dir.path());
  REQUIRE(topics);
  CHECK(topics->empty());
  auto b = load_broker_record(dir.path());
  REQUIRE(b);
  CHECK_FALSE(b->has_value());
}

TEST_CASE("topics survive a save and load with ids, partitions and overrides") {
  test::scratch_dir dir;
  std::vector<topic_record> saved = {
      {"a", random_id(), 3, {{"retention.ms", "5"}}, 100},
      {"b", random_id(), 1, {}, 200},
  };
  REQUIRE(save_topics(dir.path(), saved));
  auto loaded = load_topics(dir.path());
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 2);
  CHECK((*loaded)[0].name == "a");
  CHECK((*loaded)[0].topic_id == saved[0].topic_id);
  CHECK((*loaded)[0].partitions == 3);
  CHECK((*loaded)[0].overrides.at("retention.ms") == "5");
  CHECK((*loaded)[0].created_ms == 100);
  CHECK((*loaded)[1].overrides.empty());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "topics.meta.tmp"));
}

TEST_CASE("the broker record survives a save and load") {
  test::scratch_dir dir;
  REQUIRE(save_broker_record(dir.path(), {7, "cluster-x", 3000}));
  auto b = load_broker_record(dir.path());
  REQUIRE(b);
  REQUIRE(b->has_value());
  CHECK((*b)->broker_id == 7);
  CHECK((*b)->cluster_id == "cluster-x");
  CHECK((*b)->producer_id_block_end == 3000);
}

TEST_CASE("a corrupt topics file is refused naming the file, not guessed at") {
  test::scratch_dir dir;
  std::ofstream(dir.path() / "topics.meta") << "this is not a flatbuffer";
  auto topics = load_topics(dir.path());
  REQUIRE_FALSE(topics);
  CHECK(topics.error().code == log_errc::corrupt_log);
  CHECK(topics.error().detail.find("topics.meta") != std::string::npos);
}

TEST_CASE("random ids are 32 hex digits and differ") {
  auto a = random_id();
  auto b = random_id();
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}
