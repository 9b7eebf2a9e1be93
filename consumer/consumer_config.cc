#include <fmt/format.h>

#include <cstdint>
#include <limits>

#include "consumer/consumer.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/client_errc.h"

namespace sluice {
namespace {

error invalid(std::string_view setting, std::string_view why) {
  return make_error(client_errc::invalid_argument, fmt::format("{} {}", setting, why));
}

}  // namespace

result<void> consumer_config::validate() const {
  constexpr auto max_ms = std::numeric_limits<std::int32_t>::max();
  if (fetch_min_bytes < 0) return invalid("fetch_min_bytes", "must not be negative");
  if (fetch_max_wait.count() < 0 || fetch_max_wait.count() > max_ms) {
    return invalid("fetch_max_wait", fmt::format("must be 0 to {} ms", max_ms));
  }
  if (fetch_max_bytes <= 0) return invalid("fetch_max_bytes", "must be positive");
  if (max_partition_fetch_bytes <= 0) {
    return invalid("max_partition_fetch_bytes", "must be positive");
  }
  if (max_poll_records == 0) return invalid("max_poll_records", "must be at least 1");
  if (max_buffered_bytes == 0) return invalid("max_buffered_bytes", "must be positive");
  if (request_timeout.count() <= 0) return invalid("request_timeout", "must be positive");
  if (receive_buffer_bytes < -1 || receive_buffer_bytes == 0) {
    return invalid("receive_buffer_bytes", "must be positive, or -1 for the kernel's default");
  }
  if (max_fetches_in_flight < 1 || max_fetches_in_flight > max_fetches_in_flight_limit) {
    return invalid("max_fetches_in_flight",
                   fmt::format("must be 1 to {}", max_fetches_in_flight_limit));
  }
  if (auto b = bootstrap_brokers(brokers); !b) return b.error();
  return {};
}

}  // namespace sluice
