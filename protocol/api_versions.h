#pragma once
// Which version of each request this build speaks. A broker answers ApiVersions with this table;
// a client sends each request at the version it was written for and refuses locally (with
// unsupported_version) when the broker's range does not include it, so an old client meets a
// new broker, or the reverse, with a clear error instead of a misread message.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/sluice_generated.h"

namespace sluice {

struct api_version_range {
  wire::RequestBody api;
  std::uint16_t min_version;
  std::uint16_t max_version;
};

// The versions this build implements, one entry per RequestBody type (broker side), and the
// version clients of this build send (client side: always the max).
[[nodiscard]] std::span<const api_version_range> supported_api_versions();
[[nodiscard]] std::uint16_t client_version(wire::RequestBody api);

// The request's name ("Produce", "Fetch", ...) for logs and errors.
[[nodiscard]] std::string_view api_name(wire::RequestBody api);

// Sluice's version, sent in ApiVersions both ways.
inline constexpr std::string_view software_version = "0.1.0";

}  // namespace sluice
