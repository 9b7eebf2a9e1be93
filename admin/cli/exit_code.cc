#include "admin/cli/exit_code.h"

#include <fmt/format.h>

#include <boost/asio/error.hpp>
#include <cerrno>
#include <cstdio>

#include "protocol/client/client_errc.h"

namespace sluice::cli {

namespace {

bool is_unreachable_errno(int value) {
  switch (value) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EADDRNOTAVAIL:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool is_connection_failure(const error& e) {
  const auto& c = e.code;
  if (c == client_errc::no_brokers) return true;
  // Resolver failures: the host name does not exist.
  if (c.category() == boost::asio::error::get_netdb_category() ||
      c.category() == boost::asio::error::get_addrinfo_category()) {
    return true;
  }
  if (c.category() == boost::system::system_category() ||
      c.category() == boost::system::generic_category()) {
    return is_unreachable_errno(c.value());
  }
  // A connect that timed out: the client says so in the detail ("connecting to ... took").
  return c == client_errc::timed_out && e.detail.starts_with("connecting to");
}

exit_code exit_code_for(const error& e) {
  return is_connection_failure(e) ? exit_code::no_broker : exit_code::failed;
}

exit_code report_failure(std::string_view what, const error& e) {
  fmt::print(stderr, "sluice: {}: {}\n", what, e.message());
  return exit_code_for(e);
}

exit_code report_usage(std::string_view message) {
  fmt::print(stderr, "sluice: {}\n", message);
  return exit_code::usage;
}

}  // namespace sluice::cli
