#include "admin/cli/topic_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace sluice::cli {

namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> partition_row(const partition_description& p) {
  std::vector<std::string> row{
      std::to_string(p.partition),        std::to_string(p.leader),
      std::to_string(p.log_start_offset), std::to_string(p.high_watermark),
      std::to_string(p.log_end_offset),   format_bytes(static_cast<std::uint64_t>(p.size_bytes)),
      std::to_string(p.segments)};
  if (p.problem) row.push_back("offline: " + p.problem->message());
  return row;
}

std::string format_configs(const std::vector<config_value>& configs) {
  std::string out = "  Configs:\n";
  auto sorted = configs;
  std::ranges::sort(sorted, {}, &config_value::name);
  for (const auto& c : sorted) {
    out += fmt::format("    {}={}{}\n", c.name, c.value, c.is_default ? " (default)" : "");
  }
  return out;
}

json partition_json(const partition_description& p) {
  json j{{"partition", p.partition},
         {"leader", p.leader},
         {"log_start_offset", p.log_start_offset},
         {"high_watermark", p.high_watermark},
         {"log_end_offset", p.log_end_offset},
         {"size_bytes", p.size_bytes},
         {"segments", p.segments}};
  j["problem"] = p.problem ? json(p.problem->message()) : json(nullptr);
  return j;
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array units{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  for (; value >= 1024 && unit + 1 < units.size(); ++unit) value /= 1024;
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         std::string_view indent) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (std::size_t c = 0; c < row.size(); ++c) line += fmt::format("{:<{}}  ", row[c], widths[c]);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string format_description_text(const topic_description& t) {
  std::string out = fmt::format("Topic: {}  TopicId: {}  Partitions: {}\n", t.name, t.topic_id,
                                t.partitions.size());
  out += format_configs(t.configs);
  std::vector<std::vector<std::string>> rows{
      {"Partition", "Leader", "LogStart", "HighWatermark", "LogEnd", "Size", "Segments"}};
  for (const auto& p : t.partitions) rows.push_back(partition_row(p));
  return out + format_table(rows, "  ");
}

std::string format_description_json(const topic_description& t) {
  json configs = json::array();
  for (const auto& c : t.configs) {
    configs.push_back(json{{"name", c.name}, {"value", c.value}, {"is_default", c.is_default}});
  }
  json partitions = json::array();
  for (const auto& p : t.partitions) partitions.push_back(partition_json(p));
  const json j{{"topic", t.name},
               {"topic_id", t.topic_id},
               {"configs", configs},
               {"partitions", partitions}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sluice::cli
