#include "admin/cli/tick_clock.h"

#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace sluice::cli {
namespace {

// CPUID leaf 0x80000007, EDX bit 8: the counter runs at a constant rate in every power state.
bool counter_is_invariant() {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) == 0 || a < 0x80000007) return false;
  if (__get_cpuid(0x80000007, &a, &b, &c, &d) == 0) return false;
  return (d & (1U << 8)) != 0;
#else
  return false;
#endif
}

tick_clock::rate measure() {
  if (!counter_is_invariant()) return {false, 0.0, 0};
#if defined(__x86_64__)
  const auto t0 = std::chrono::steady_clock::now();
  const auto c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto t1 = std::chrono::steady_clock::now();
  const auto c1 = __rdtsc();
  if (c1 <= c0) return {false, 0.0, 0};
  const std::chrono::duration<double, std::nano> elapsed = t1 - t0;
  return {true, elapsed.count() / static_cast<double>(c1 - c0), c0};
#else
  return {false, 0.0, 0};
#endif
}

}  // namespace

const tick_clock::rate& tick_clock::calibration() {
  static const rate measured = measure();
  return measured;
}

}  // namespace sluice::cli
