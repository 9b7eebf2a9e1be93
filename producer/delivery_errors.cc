#include "producer/delivery_errors.h"

#include <charconv>
#include <string_view>

#include "protocol/client/client_errc.h"
#include "protocol/errc.h"
#include "protocol/wire_errc.h"

namespace sluice::producer_internal {

bool is_retriable(const error& e) {
  const auto& category = e.code.category();
  if (category == wire::wire_category()) {
    return wire::is_retriable(static_cast<wire::ErrorCode>(e.code.value()));
  }
  if (category == client_category()) {
    switch (static_cast<client_errc>(e.code.value())) {
      case client_errc::connection_lost:
      case client_errc::timed_out:
      case client_errc::no_brokers:
        return true;
      default:
        return false;
    }
  }
  // A batch this producer built that does not pass its own checks is a bug, not weather.
  if (category == protocol_category()) return false;
  return true;  // errno, Asio and resolver errors: the network
}

bool proves_not_stored(const error& e) {
  if (e.code.category() != wire::wire_category()) return false;
  switch (static_cast<wire::ErrorCode>(e.code.value())) {
    case wire::ErrorCode::storage_error:
    case wire::ErrorCode::unknown_server_error:
    case wire::ErrorCode::request_timed_out:
      return false;
    default:
      return true;
  }
}

bool is_wire_error(const error& e, wire::ErrorCode code) {
  return e.code == wire::make_error_code(code);
}

std::optional<std::size_t> refused_frame_limit(const error& e) {
  if (e.code != client_errc::connection_lost) return std::nullopt;
  constexpr std::string_view before = "exceeds the limit of ";
  const std::string_view detail = e.detail;
  const auto at = detail.find(before);
  if (at == std::string_view::npos) return std::nullopt;
  const auto digits = detail.substr(at + before.size());
  std::size_t limit = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), limit);
  if (ec != std::errc{} || end == digits.data() || limit == 0) return std::nullopt;
  return limit;
}

}  // namespace sluice::producer_internal
