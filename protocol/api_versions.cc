#include "protocol/api_versions.h"

#include <array>

namespace sluice {
namespace {

using wire::RequestBody;

constexpr std::array<api_version_range, 10> table{{
    {RequestBody::ApiVersionsRequest, 1, 1},
    {RequestBody::ProduceRequest, 1, 1},
    {RequestBody::FetchRequest, 1, 1},
    {RequestBody::ListOffsetsRequest, 1, 1},
    {RequestBody::MetadataRequest, 1, 1},
    {RequestBody::CreateTopicsRequest, 1, 1},
    {RequestBody::DeleteTopicsRequest, 1, 1},
    {RequestBody::DescribeTopicsRequest, 1, 1},
    {RequestBody::AlterConfigsRequest, 1, 1},
    {RequestBody::InitProducerIdRequest, 1, 1},
}};

}  // namespace

std::span<const api_version_range> supported_api_versions() {
  return table;
}

std::uint16_t client_version(RequestBody api) {
  for (const auto& r : table) {
    if (r.api == api) return r.max_version;
  }
  return 0;
}

std::string_view api_name(RequestBody api) {
  std::string_view name = wire::EnumNameRequestBody(api);
  constexpr std::string_view suffix = "Request";
  if (name.ends_with(suffix)) name.remove_suffix(suffix.size());
  return name.empty() ? std::string_view("unknown") : name;
}

}  // namespace sluice
