#pragma once
// Topic names, with Kafka's rules: 1 to 249 characters from [a-zA-Z0-9._-], not "." or "..".
// (249 leaves room for "-<partition>" in a 255-byte directory name; a deletion renames the
// longest ones aside under a hash, broker/controller.cc.)

#include <string_view>

#include "protocol/result.h"

namespace sluice {

inline constexpr std::size_t max_topic_name_length = 249;

// invalid_topic_name with the reason when `name` breaks a rule.
[[nodiscard]] result<void> validate_topic_name(std::string_view name);

}  // namespace sluice
