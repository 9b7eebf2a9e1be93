// What start-up removes from the data directory: partition directories no topic owns and those
// a topic deletion moved aside, left by a crash, and nothing an operator put there.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "broker/controller.h"
#include "tests/broker/test_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "x";
}

// A partition directory as a partition log leaves it.
void make_partition_dir(const fs::path& dir) {
  write_file(dir / "00000000000000000000.log");
  write_file(dir / "00000000000000000000.index");
  write_file(dir / "00000000000000000000.timeindex");
  write_file(dir / "checkpoint");
  write_file(dir / "producer-state.snapshot");
}

}  // namespace

TEST_CASE("start-up removes partition directories no topic owns, and only those") {
  test::scratch_dir data;
  make_partition_dir(data.path() / "gone-0");
  make_partition_dir(data.path() / "kept-0");
  write_file(data.path() / "app-1" / "server.log");  // an operator's, under a partition-like name
  make_partition_dir(data.path() / "mixed-0");
  write_file(data.path() / "mixed-0" / "notes.txt");
  topic_map topics;
  topics["kept"].record.partitions = 1;

  REQUIRE(remove_unowned_partition_dirs(data.path(), topics).has_value());
  CHECK_FALSE(fs::exists(data.path() / "gone-0"));
  CHECK(fs::exists(data.path() / "kept-0" / "checkpoint"));
  CHECK(fs::exists(data.path() / "app-1" / "server.log"));
  CHECK(fs::exists(data.path() / "mixed-0" / "notes.txt"));
}

TEST_CASE("start-up removes what a topic deletion moved aside, not other .deleted directories") {
  test::scratch_dir data;
  make_partition_dir(data.path() / "t-0.deleted");
  write_file(data.path() / "0123456789abcdef.deleted" / "00000000000000000042.log");
  fs::create_directories(data.path() / "t-1.deleted");  // emptied before the crash
  write_file(data.path() / "photos.deleted" / "a.jpg");
  write_file(data.path() / "t-2.deleted" / "a.jpg");

  REQUIRE(remove_deleted_leftovers(data.path()).has_value());
  CHECK_FALSE(fs::exists(data.path() / "t-0.deleted"));
  CHECK_FALSE(fs::exists(data.path() / "0123456789abcdef.deleted"));
  CHECK_FALSE(fs::exists(data.path() / "t-1.deleted"));
  CHECK(fs::exists(data.path() / "photos.deleted" / "a.jpg"));
  CHECK(fs::exists(data.path() / "t-2.deleted" / "a.jpg"));
}

}  // namespace sluice
