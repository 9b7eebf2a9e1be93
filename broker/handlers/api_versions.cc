// ApiVersions: which request versions this broker speaks, and the largest request it reads.

#include "protocol/api_versions.h"

#include "broker/handlers/request_context.h"

namespace sluice {

void handle_api_versions(request_context ctx) {
  wire::ApiVersionsResponseT out;
  for (const auto& r : supported_api_versions()) {
    auto range = std::make_unique<wire::ApiVersionRangeT>();
    range->api = static_cast<std::uint8_t>(r.api);
    range->min_version = r.min_version;
    range->max_version = r.max_version;
    out.apis.push_back(std::move(range));
  }
  out.broker_software_version = std::string(software_version);
  out.max_request_bytes = ctx.max_request_bytes;
  response_builder b;
  b.finish_object(ctx.request_id(), out);
  ctx.respond(std::move(b));
}

}  // namespace sluice
