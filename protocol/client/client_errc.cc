#include "protocol/client/client_errc.h"

#include <string>

namespace sluice {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class client_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.client"; }

  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::connection_lost:
        return "connection to the broker lost";
      case client_errc::timed_out:
        return "request timed out";
      case client_errc::unsupported_version:
        return "the broker does not support this request version";
      case client_errc::protocol_violation:
        return "the broker's response does not fit the request";
      case client_errc::buffer_full:
        return "producer buffer full";
      case client_errc::client_closed:
        return "client closed";
      case client_errc::invalid_argument:
        return "invalid argument";
      case client_errc::no_brokers:
        return "no broker reachable";
      case client_errc::retries_exhausted:
        return "retries exhausted";
    }
    return "unknown client error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const client_category_impl category;
  return category;
}

}  // namespace sluice
