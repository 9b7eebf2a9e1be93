#pragma once
// Failures a client library detects itself (the broker's own errors arrive as wire::ErrorCode,
// network failures as Asio's error codes). Category "sluice.client".

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace sluice {

enum class client_errc {
  connection_lost = 1,  // the connection closed or failed with the request in flight
  timed_out,            // no response within the request timeout
  unsupported_version,  // the broker does not speak the version this client sends
  protocol_violation,   // the broker answered with something that does not fit the request
  buffer_full,          // buffer.memory exhausted for longer than max.block.ms
  client_closed,        // the client was closed with the operation pending
  invalid_argument,     // a bad option or argument; the detail says which
  no_brokers,           // no broker address given, or none reachable
  retries_exhausted,    // a retriable error persisted through every retry (see the detail)
};

[[nodiscard]] const boost::system::error_category& client_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace sluice

template <>
struct boost::system::is_error_code_enum<sluice::client_errc> : std::true_type {};
