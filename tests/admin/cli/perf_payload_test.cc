#include "admin/cli/perf_payload.h"

#include <doctest/doctest.h>

namespace sluice::cli {
namespace {

TEST_CASE("fill writes the same bytes as value, reusing the string") {
  const payload_source payload(100);
  std::string reused;
  for (std::uint64_t n = 0; n < 3000; ++n) {
    payload.fill(n, reused);
    REQUIRE(reused == payload.value(n));
  }
  CHECK(reused.size() == 100);
  CHECK(payload.value(0) != payload.value(1));  // a different slice per record
}

TEST_CASE("a stamped send time reads back; a short value has none") {
  const payload_source payload(16);
  auto v = payload.value(7);
  stamp_send_time(v, 123456789012345);
  CHECK(read_send_time(v) == 123456789012345);
  CHECK_FALSE(read_send_time("short").has_value());
}

}  // namespace
}  // namespace sluice::cli
