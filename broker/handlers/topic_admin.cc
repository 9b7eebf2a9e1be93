#include "broker/handlers/topic_admin.h"

#include "broker/handlers/error_fields.h"

namespace sluice {

config_overrides read_config_entries(
    const flatbuffers::Vector<flatbuffers::Offset<wire::ConfigEntry>>* entries) {
  config_overrides out;
  if (entries == nullptr) return out;
  for (const auto* e : *entries) {
    out[e->name()->str()] = e->value() != nullptr ? e->value()->str() : std::string();
  }
  return out;
}

std::unique_ptr<wire::TopicResultT> topic_result(std::string name, const result<void>& r) {
  auto out = std::make_unique<wire::TopicResultT>();
  out->name = std::move(name);
  if (!r) set_error(*out, r.error());
  return out;
}

}  // namespace sluice
