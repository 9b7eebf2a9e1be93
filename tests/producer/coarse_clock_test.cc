#include "producer/coarse_clock.h"

#include <doctest/doctest.h>

#include <thread>

namespace sluice::producer_internal {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

TEST_CASE("coarse_now is never later than steady_clock::now and lags it by a tick or so") {
  for (int i = 0; i < 2000; ++i) {
    const auto before = steady::now();
    const auto coarse = coarse_now();
    const auto after = steady::now();
    CHECK(coarse <= after);
    // A tick is 1-10 ms (CONFIG_HZ 1000-100); a loaded machine may deliver one late. Another
    // clock (realtime, boot time) would be off by far more.
    CHECK(before - coarse <= 100ms);
    if (i % 200 == 0) std::this_thread::sleep_for(1ms);
  }
}

TEST_CASE("coarse_now advances with time") {
  const auto first = coarse_now();
  std::this_thread::sleep_for(30ms);
  CHECK(coarse_now() - first >= 20ms);
}

}  // namespace
}  // namespace sluice::producer_internal
