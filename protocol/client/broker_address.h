#pragma once
// Broker addresses as users write them: "host:port[,host:port...]", from --brokers or the
// SLUICE_BROKERS environment variable. The port defaults to 9190, the native protocol's port.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.h"

namespace sluice {

inline constexpr std::uint16_t default_native_port = 9190;
inline constexpr const char* brokers_env_var = "SLUICE_BROKERS";

struct broker_address {
  std::string host;
  std::uint16_t port = default_native_port;

  [[nodiscard]] std::string to_string() const;
  bool operator==(const broker_address&) const = default;
};

// The bootstrap list a client uses: `configured` when not empty, else the SLUICE_BROKERS
// environment variable, else 127.0.0.1:9190. Fails as parse_broker_list does.
[[nodiscard]] result<std::vector<broker_address>> bootstrap_brokers(std::string_view configured);

// Parses a comma-separated list; IPv6 hosts in brackets ("[::1]:9190", "[::1]"). Fails with
// client_errc::invalid_argument naming the bad entry; an unbracketed IPv6 address ("::1") is
// refused saying to bracket it.
[[nodiscard]] result<std::vector<broker_address>> parse_broker_list(std::string_view text);

}  // namespace sluice
