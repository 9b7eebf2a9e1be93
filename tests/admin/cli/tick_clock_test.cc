#include "admin/cli/tick_clock.h"

#include <doctest/doctest.h>

#include <thread>

namespace sluice::cli {

using namespace std::chrono_literals;

TEST_CASE("the tick clock never runs backwards on one thread") {
  auto last = tick_clock::now();
  for (int i = 0; i < 100'000; ++i) {
    const auto now = tick_clock::now();
    REQUIRE(now >= last);
    last = now;
  }
}

TEST_CASE("the tick clock measures a span as steady_clock does") {
  // Each end of a span is read from both clocks back to back; a preemption between two reads
  // widens one span, so the closest of three is compared.
  auto closest = std::chrono::nanoseconds::max();
  for (int i = 0; i < 3; ++i) {
    const auto s0 = std::chrono::steady_clock::now();
    const auto t0 = tick_clock::now();
    std::this_thread::sleep_for(50ms);
    const auto t1 = tick_clock::now();
    const auto s1 = std::chrono::steady_clock::now();
    const auto ticked = t1 - t0;
    const auto steady = std::chrono::duration_cast<std::chrono::nanoseconds>(s1 - s0);
    CHECK(ticked >= 49ms);
    closest = std::min(closest, steady > ticked ? steady - ticked : ticked - steady);
  }
  CHECK(closest < 1ms);
}

TEST_CASE("the calibration is measured once and says which source serves") {
  const auto& a = tick_clock::calibration();
  const auto& b = tick_clock::calibration();
  CHECK(&a == &b);
  if (a.counter) CHECK(a.ns_per_tick > 0.0);
}

}  // namespace sluice::cli
