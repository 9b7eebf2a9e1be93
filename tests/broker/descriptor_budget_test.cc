// A topic creation must leave the broker descriptors for its connections and segment rolls.

#include "broker/descriptor_budget.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "broker/errc.h"
#include "tests/result_printer.h"

namespace sluice {

TEST_CASE("a creation that fits in the open-files limit with room to spare is allowed") {
  CHECK(check_descriptors_for("t", 5000, descriptor_use{24, 20000}));
  CHECK(check_descriptors_for("t", 1, descriptor_use{24, 1024}));
}

TEST_CASE("a creation that would use up the open-files limit is refused, saying by how much") {
  auto refused = check_descriptors_for("huge", 7000, descriptor_use{24, 20000});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == broker_errc::invalid_partition_count);
  const auto& why = refused.error().detail;
  CHECK(why.find("'huge': 7000 partitions need 21000 open files") != std::string::npos);
  CHECK(why.find("19976 of its limit of 20000 left, 1024 of which stay free") != std::string::npos);
  CHECK(why.find("ulimit -n") != std::string::npos);
}

TEST_CASE("the room kept free is a tenth of the limit, at most 1024") {
  CHECK(descriptor_headroom(1000) == 100);
  CHECK(descriptor_headroom(1'000'000) == 1024);
  // 970 of 1000 left, 100 kept: 290 partitions (870) fit, 291 (873) do not.
  CHECK(check_descriptors_for("t", 290, descriptor_use{30, 1000}));
  CHECK_FALSE(check_descriptors_for("t", 291, descriptor_use{30, 1000}));
  // More open than the limit (it was lowered meanwhile): nothing fits.
  CHECK_FALSE(check_descriptors_for("t", 1, descriptor_use{2000, 1000}));
}

TEST_CASE("this process's descriptors are counted as they are opened") {
  auto before = current_descriptor_use();
  REQUIRE(before.has_value());
  CHECK(before->open > 0);
  CHECK(before->open <= before->limit);
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto with_one_more = current_descriptor_use();
  ::close(fd);
  REQUIRE(with_one_more.has_value());
  CHECK(with_one_more->open == before->open + 1);
}

}  // namespace sluice
