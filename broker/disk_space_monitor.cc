#include "broker/disk_space_monitor.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>

#include "broker/errc.h"

namespace sluice {

result<void> disk_space_monitor::check_appendable(std::uint64_t bytes) {
  if (min_free_ == 0) return {};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto last = checked_at_ns_.load(std::memory_order_relaxed);
  if ((last == never || now - last >= std::chrono::nanoseconds(refresh_).count()) &&
      checked_at_ns_.compare_exchange_strong(last, now)) {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) == 0) {
      free_bytes_.store(std::uint64_t{st.f_bavail} * st.f_frsize, std::memory_order_relaxed);
    }
  }
  auto free = free_bytes_.load(std::memory_order_relaxed);
  while (free >= min_free_) {
    if (free_bytes_.compare_exchange_weak(free, free - std::min(free, bytes),
                                          std::memory_order_relaxed)) {
      return {};
    }
  }
  return make_error(broker_errc::not_enough_space,
                    fmt::format("{} has {} bytes free, below the floor of {} bytes "
                                "(--min-free-bytes); free space or let retention run",
                                dir_.string(), free, min_free_));
}

}  // namespace sluice
