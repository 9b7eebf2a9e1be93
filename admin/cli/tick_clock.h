#pragma once
// The clock the perf tools time every record with: the CPU's time-stamp counter read directly
// (about 10 ns on the development machine) where it is invariant (constant rate, never
// stopped), else std::chrono::steady_clock (clock_gettime, about 25 ns there). A flat-out run
// reads it at least twice per record (sent, acknowledged): at 3 million records a second
// clock_gettime alone took about a sixth of the client's CPU (perf/RESULTS.md).
//
// Ticks become nanoseconds at a rate measured against steady_clock on first use (20 ms).
// Only the difference of two readings means anything: the epoch is the clock's own.

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace sluice::cli {

struct tick_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<tick_clock>;
  static constexpr bool is_steady = true;

  struct rate {
    bool counter;  // false: steady_clock serves
    double ns_per_tick;
    std::uint64_t origin;  // the counter at calibration
  };
  // Measured once, on the first call (thread-safe).
  [[nodiscard]] static const rate& calibration();

  [[nodiscard]] static time_point now() noexcept {
    const rate& r = calibration();
#if defined(__x86_64__)
    if (r.counter) {
      const auto ticks = static_cast<double>(__rdtsc() - r.origin);
      return time_point(duration(static_cast<rep>(ticks * r.ns_per_tick)));
    }
#endif
    return time_point(
        std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()));
  }
};

}  // namespace sluice::cli
