#include "broker/descriptor_budget.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

#include "broker/errc.h"

namespace sluice {

std::optional<descriptor_use> current_descriptor_use() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return std::nullopt;
  std::error_code ec;
  std::uint64_t open = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++open;
  }
  if (ec || open == 0) return std::nullopt;
  // The listing's own descriptor was one of them.
  return descriptor_use{open - 1, lim.rlim_cur};
}

std::uint64_t descriptor_headroom(std::uint64_t limit) {
  return std::min<std::uint64_t>(limit / 10, 1024);
}

result<void> check_descriptors_for(std::string_view topic, std::int32_t partitions,
                                   const descriptor_use& use) {
  const auto needed =
      static_cast<std::uint64_t>(std::max(partitions, 0)) * descriptors_per_new_partition;
  const auto headroom = descriptor_headroom(use.limit);
  const auto left = use.limit > use.open ? use.limit - use.open : 0;
  if (needed + headroom <= left) return {};
  return make_error(
      broker_errc::invalid_partition_count,
      fmt::format("topic '{}': {} partitions need {} open files, and the broker has {} of its "
                  "limit of {} left, {} of which stay free for connections and segment rolls; "
                  "create fewer partitions or raise the broker's open-files limit (ulimit -n, "
                  "systemd LimitNOFILE)",
                  topic, partitions, needed, left, use.limit, headroom));
}

}  // namespace sluice
