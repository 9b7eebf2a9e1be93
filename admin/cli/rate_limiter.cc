#include "admin/cli/rate_limiter.h"

namespace sluice::cli {

std::chrono::nanoseconds rate_limiter::delay_before(std::uint64_t sent,
                                                    std::chrono::nanoseconds elapsed) const {
  if (unlimited()) return std::chrono::nanoseconds(0);
  const double due_ns = static_cast<double>(sent) * 1e9 / per_second_;
  const double wait_ns = due_ns - static_cast<double>(elapsed.count());
  if (wait_ns <= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(wait_ns));
}

}  // namespace sluice::cli
