#include "admin/cli/rate_limiter.h"

#include <doctest/doctest.h>

#include "admin/cli/perf_target.h"

namespace sluice::cli {

using namespace std::chrono_literals;

TEST_CASE("unlimited never waits") {
  const rate_limiter r(-1);
  CHECK(r.unlimited());
  CHECK(r.delay_before(1'000'000, 0ns) == 0ns);
}

TEST_CASE("at 1000 records/s record n is due at n ms") {
  const rate_limiter r(1000);
  CHECK(r.delay_before(0, 0ns) == 0ns);
  CHECK(r.delay_before(10, 4ms) == 6ms);
  CHECK(r.delay_before(10, 10ms) == 0ns);
}

TEST_CASE("after a stall the backlog goes at once, keeping the average on target") {
  const rate_limiter r(100);
  // 50 records were due in the first 500 ms; at 600 ms none of them waits.
  for (std::uint64_t n = 0; n <= 59; ++n) CHECK(r.delay_before(n, 600ms) == 0ns);
  CHECK(r.delay_before(61, 600ms) == 10ms);
}

TEST_CASE("a perf run ends at --num-records or --duration, whichever comes first") {
  const perf_target count{.num_records = 10, .duration = 0ns};
  CHECK(count.more(9, 1h));
  CHECK_FALSE(count.more(10, 0ns));
  const perf_target time{.num_records = 0, .duration = 2s};
  CHECK(time.more(1'000'000, 1s));
  CHECK_FALSE(time.more(0, 2s));
  const perf_target both{.num_records = 5, .duration = 1s};
  CHECK_FALSE(both.more(5, 0s));
  CHECK_FALSE(both.more(0, 1s));
  CHECK_FALSE(perf_target{}.bounded());
}

}  // namespace sluice::cli
