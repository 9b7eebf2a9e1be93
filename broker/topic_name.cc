#include "broker/topic_name.h"

#include <fmt/format.h>

#include "broker/errc.h"

namespace sluice {

result<void> validate_topic_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return make_error(broker_errc::invalid_topic_name,
                      fmt::format("topic name '{}' {}", name, why));
  };
  if (name.empty()) return make_error(broker_errc::invalid_topic_name, "topic name is empty");
  if (name.size() > max_topic_name_length) {
    return bad(
        fmt::format("is {} characters long; the limit is {}", name.size(), max_topic_name_length));
  }
  if (name == "." || name == "..") return bad("is not allowed");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return bad(
          fmt::format("contains '{}'; allowed are ASCII letters, digits, '.', '_' and '-'", c));
    }
  }
  return {};
}

}  // namespace sluice
