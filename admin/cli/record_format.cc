#include "admin/cli/record_format.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace sluice::cli {

namespace {

using json = nlohmann::ordered_json;

json nullable(const std::optional<std::string_view>& s) {
  return s ? json(*s) : json(nullptr);
}

}  // namespace

std::string format_text(const consumer_record& r, const text_format& f) {
  std::string line;
  if (f.print_offset) {
    line +=
        fmt::format("Partition:{}{}Offset:{}{}", r.partition, f.separator, r.offset, f.separator);
  }
  if (f.print_key) {
    line += r.key.value_or("null");
    line += f.separator;
  }
  line += r.value.value_or("null");
  return line;
}

std::string format_json(const consumer_record& r) {
  json headers = json::array();
  for (const auto& [key, value] : r.headers) {
    headers.push_back(json{{"key", std::string(key)}, {"value", nullable(value)}});
  }
  const json j{{"topic", r.topic},         {"partition", r.partition}, {"offset", r.offset},
               {"timestamp", r.timestamp}, {"key", nullable(r.key)},   {"value", nullable(r.value)},
               {"headers", headers}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sluice::cli
