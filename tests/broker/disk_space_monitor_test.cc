// The free-space floor: refused below it, and the bytes accepted between two statvfs calls
// count, so a fast producer cannot write past it.

#include "broker/disk_space_monitor.h"

#include <doctest/doctest.h>
#include <sys/statvfs.h>

#include <chrono>

#include "broker/errc.h"
#include "tests/broker/test_dir.h"

namespace sluice {
namespace {

std::uint64_t free_bytes(const std::filesystem::path& dir) {
  struct statvfs st {};
  REQUIRE(::statvfs(dir.c_str(), &st) == 0);
  return std::uint64_t{st.f_bavail} * st.f_frsize;
}

TEST_CASE("a floor of 0 never refuses") {
  test::scratch_dir dir;
  disk_space_monitor m(dir.path(), 0);
  CHECK(m.check_appendable(UINT64_MAX).has_value());
}

TEST_CASE("appends are refused below the floor") {
  test::scratch_dir dir;
  disk_space_monitor m(dir.path(), UINT64_MAX);
  auto r = m.check_appendable(1);
  REQUIRE(r.has_error());
  CHECK(r.error().code == make_error_code(broker_errc::not_enough_space));
  CHECK(r.error().detail.find("--min-free-bytes") != std::string::npos);
}

TEST_CASE("bytes accepted between two statvfs calls count against the floor") {
  test::scratch_dir dir;
  const std::uint64_t free = free_bytes(dir.path());
  REQUIRE(free > (4ULL << 20));
  // statvfs runs once (refresh of an hour): only the accounting can bring the figure down.
  disk_space_monitor m(dir.path(), free - (1ULL << 20), std::chrono::hours(1));
  int accepted = 0;
  while (m.check_appendable(256 * 1024).has_value()) {
    ++accepted;
    REQUIRE(accepted < 100);
  }
  // About 1 MiB (4 batches) goes before the figure drops below the floor: the first statvfs
  // may see a little less free space than ours did, never more than 1 MiB less here.
  CHECK(accepted >= 1);
  CHECK(accepted <= 5);
}

}  // namespace
}  // namespace sluice
