#pragma once
// Shared by the topic administration handlers: reading config entries from a request and
// answering with one TopicResult per topic.

#include <memory>
#include <string>
#include <vector>

#include "broker/handlers/request_context.h"
#include "broker/topic_config.h"

namespace sluice {

// name -> value; an entry without a value means the empty string (which the config rejects).
[[nodiscard]] config_overrides read_config_entries(
    const flatbuffers::Vector<flatbuffers::Offset<wire::ConfigEntry>>* entries);

[[nodiscard]] std::unique_ptr<wire::TopicResultT> topic_result(std::string name,
                                                               const result<void>& r);

}  // namespace sluice
