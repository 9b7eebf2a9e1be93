// The producer snapshot file: what the producer table remembered of the batches retention
// deleted, read back as it was written.

#include "broker/producer_snapshot.h"

#include <doctest/doctest.h>

#include <fstream>

#include "segment/errc.h"
#include "tests/broker/test_dir.h"
#include "tests/result_printer.h"

using namespace sluice;

TEST_CASE("a producer snapshot reads back the producers and the offset it was written with") {
  test::scratch_dir dir;
  producer_state_table t;
  t.restore({.producer_id = 9,
             .epoch = 2,
             .last_timestamp = 1'800'000'000'000,
             .batches = {{0, 3, offset{10}}, {4, 7, offset{40}}}});
  t.restore({.producer_id = 5, .epoch = 0, .last_timestamp = -1, .batches = {{0, 0, offset{1}}}});
  REQUIRE(write_producer_snapshot(dir.path(), t, offset{64}));

  auto read = read_producer_snapshot(dir.path());
  REQUIRE(read);
  REQUIRE(read->has_value());
  CHECK((*read)->until == offset{64});
  CHECK((*read)->table.remembered() == t.remembered());
}

TEST_CASE("a partition without a producer snapshot has none; a damaged one is an error") {
  test::scratch_dir dir;
  auto none = read_producer_snapshot(dir.path());
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  std::ofstream(dir.path() / producer_snapshot_file_name) << "not a flatbuffer";
  auto damaged = read_producer_snapshot(dir.path());
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().code == log_errc::corrupt_log);
  CHECK(damaged.error().detail.find("producer-state.snapshot") != std::string::npos);
}
