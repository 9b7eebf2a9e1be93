#pragma once
// Topic configuration: the overrides set on a topic (name -> value text, as users write them),
// applied over the broker's defaults to give the log_config its partitions run with. Names and
// meanings follow Kafka's topic configs.
//
//   retention.ms  retention.bytes  segment.bytes  segment.ms  flush  max.message.bytes
//   index.interval.bytes  segment.index.bytes

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.h"
#include "segment/log_config.h"

namespace sluice {

using config_overrides = std::map<std::string, std::string, std::less<>>;

struct config_entry {
  std::string name;
  std::string value;
  bool is_default = false;
};

// Every config name a topic accepts, in the order describe lists them.
[[nodiscard]] const std::vector<std::string_view>& topic_config_names();

// `defaults` with every override applied and the result validated. Fails with invalid_config
// naming the key: unknown names, values that do not parse, values out of range.
[[nodiscard]] result<log_config> apply_overrides(const log_config& defaults,
                                                 const config_overrides& overrides);

// Every topic config with its effective value, marking those that come from the defaults.
[[nodiscard]] std::vector<config_entry> describe_config(const log_config& defaults,
                                                        const config_overrides& overrides);

}  // namespace sluice
