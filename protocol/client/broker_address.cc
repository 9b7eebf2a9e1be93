#include "protocol/client/broker_address.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "protocol/client/client_errc.h"

namespace sluice {
namespace {

result<broker_address> parse_one(std::string_view entry) {
  auto bad = [&](std::string_view why) {
    return make_error(client_errc::invalid_argument,
                      fmt::format("broker address '{}': {}", entry, why));
  };
  broker_address a;
  std::string_view port_text;
  if (entry.starts_with('[')) {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    a.host = std::string(entry.substr(1, close - 1));
    auto rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':' after ']'");
      port_text = rest.substr(1);
    }
  } else {
    // "::1" or "fe80::1:9190": where the host ends and a port starts cannot be told.
    if (entry.find(':') != entry.rfind(':')) {
      return bad(fmt::format("an IPv6 address needs brackets, with any port after them: [{}]:{}",
                             entry, default_native_port));
    }
    const auto colon = entry.rfind(':');
    a.host = std::string(entry.substr(0, colon));
    if (colon != std::string_view::npos) port_text = entry.substr(colon + 1);
  }
  if (a.host.empty()) return bad("empty host");
  if (!port_text.empty() || entry.ends_with(':')) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad("port must be a number from 1 to 65535");
    }
    a.port = static_cast<std::uint16_t>(port);
  }
  return a;
}

}  // namespace

std::string broker_address::to_string() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

result<std::vector<broker_address>> bootstrap_brokers(std::string_view configured) {
  if (!configured.empty()) return parse_broker_list(configured);
  const char* env = std::getenv(brokers_env_var);
  if (env != nullptr && *env != '\0') return parse_broker_list(env);
  return std::vector<broker_address>{broker_address{"127.0.0.1", default_native_port}};
}

result<std::vector<broker_address>> parse_broker_list(std::string_view text) {
  std::vector<broker_address> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto entry = text.substr(0, comma);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (!entry.empty()) {
      auto a = parse_one(entry);
      if (!a) return a.error();
      out.push_back(std::move(*a));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) {
    return make_error(client_errc::no_brokers, "no broker address given (--brokers host:port or " +
                                                   std::string(brokers_env_var) + ")");
  }
  return out;
}

}  // namespace sluice
