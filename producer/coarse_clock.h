#pragma once
// The steady clock read at the kernel's tick resolution, for checks that run once per send()
// but only need coarse time: metadata refresh and the max_block deadline. A precise
// steady_clock::now() reads the TSC (~20 ns); at millions of records a second the sending
// thread spent a sixth of its time there. CLOCK_MONOTONIC_COARSE counts from the same origin as
// CLOCK_MONOTONIC (steady_clock) and is updated each tick, so it is never later than
// steady_clock::now() and lags it by about a tick (4 ms at HZ=250; measured up to 4.7 ms here,
// when a tick comes late). A max_block deadline may so end a few ms early.

#include <time.h>

#include <chrono>

namespace sluice::producer_internal {

[[nodiscard]] inline std::chrono::steady_clock::time_point coarse_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

}  // namespace sluice::producer_internal
