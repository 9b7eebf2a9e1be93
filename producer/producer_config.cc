// producer_config::validate: every setting's range, and the combinations that cannot work.

#include <fmt/format.h>

#include "producer/producer.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/client_errc.h"

namespace sluice {
namespace {

error invalid(std::string_view setting, std::string_view why) {
  return make_error(client_errc::invalid_argument, fmt::format("producer {}: {}", setting, why));
}

result<void> check_ranges(const producer_config& c) {
  if (c.acks != 0 && c.acks != 1 && c.acks != -1) return invalid("acks", "must be 0, 1 or -1");
  if (c.linger.count() < 0) return invalid("linger", "must not be negative");
  if (c.batch_size == 0) return invalid("batch_size", "must be at least 1 byte");
  if (c.max_request_size < 128) return invalid("max_request_size", "must be at least 128 bytes");
  if (c.buffer_memory < c.max_request_size) {
    return invalid("buffer_memory", fmt::format("{} is below max_request_size {}", c.buffer_memory,
                                                c.max_request_size));
  }
  if (c.max_block.count() < 0) return invalid("max_block", "must not be negative");
  if (c.codec != compression::none && c.codec != compression::zstd) {
    return invalid("codec", "must be none or zstd");
  }
  if (c.max_in_flight < 1) return invalid("max_in_flight", "must be at least 1");
  if (c.request_timeout.count() <= 0) return invalid("request_timeout", "must be positive");
  if (c.retry_backoff.count() < 0) return invalid("retry_backoff", "must not be negative");
  if (c.metadata_max_age.count() <= 0) return invalid("metadata_max_age", "must be positive");
  return {};
}

result<void> check_combinations(const producer_config& c) {
  if (c.idempotence && c.acks == 0) {
    return invalid("idempotence",
                   "needs acks=1 or -1 (the broker's answer says whether a batch was a retry); "
                   "set idempotence=false to use acks=0");
  }
  // The broker remembers the last idempotent_window_batches batches of each producer per
  // partition: a retried batch further back than that could not be recognised.
  if (c.idempotence && c.max_in_flight > idempotent_window_batches) {
    return invalid("max_in_flight", fmt::format("{} is above {}, the most idempotence allows",
                                                c.max_in_flight, idempotent_window_batches));
  }
  if (c.delivery_timeout < c.linger + c.request_timeout) {
    return invalid("delivery_timeout",
                   fmt::format("{} ms is below linger + request_timeout ({} ms)",
                               c.delivery_timeout.count(), (c.linger + c.request_timeout).count()));
  }
  return {};
}

}  // namespace

result<void> producer_config::validate() const {
  if (auto r = check_ranges(*this); !r) return r;
  if (auto r = check_combinations(*this); !r) return r;
  if (auto b = bootstrap_brokers(brokers); !b) return b.error();
  return {};
}

}  // namespace sluice
