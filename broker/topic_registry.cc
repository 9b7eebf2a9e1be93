#include "broker/topic_registry.h"

#include <fmt/format.h>

#include "broker/errc.h"
#include "broker/topic_name.h"

namespace sluice {

result<void> topic_registry::load() {
  auto records = load_topics(data_dir_);
  if (!records) return records.error();
  auto map = std::make_shared<topic_map>();
  for (auto& rec : *records) {
    auto config = apply_overrides(defaults_, rec.overrides);
    if (!config) {
      return error{config.error().code, fmt::format("topic '{}' in {}: {}", rec.name,
                                                    topics_file_name, config.error().detail)};
    }
    std::string name = rec.name;
    map->emplace(std::move(name), topic_info{std::move(rec), *config});
  }
  std::lock_guard lock(mutex_);
  topics_ = std::move(map);
  return {};
}

std::shared_ptr<const topic_map> topic_registry::snapshot() const {
  std::lock_guard lock(mutex_);
  return topics_;
}

result<void> topic_registry::persist_and_publish(std::shared_ptr<topic_map> next) {
  std::vector<topic_record> records;
  for (const auto& [name, info] : *next) records.push_back(info.record);
  if (auto r = save_topics(data_dir_, records); !r) return r;
  std::lock_guard lock(mutex_);
  topics_ = std::move(next);
  return {};
}

result<topic_info> topic_registry::create(std::string_view name, std::int32_t partitions,
                                          const config_overrides& overrides, bool validate_only,
                                          std::int64_t now_ms) {
  if (auto r = validate_topic_name(name); !r) return r.error();
  if (partitions < 1 || partitions > max_partitions) {
    return make_error(broker_errc::invalid_partition_count,
                      fmt::format("topic '{}': partitions must be in [1, {}], got {}", name,
                                  max_partitions, partitions));
  }
  auto config = apply_overrides(defaults_, overrides);
  if (!config) return config.error();
  auto current = snapshot();
  if (current->contains(name)) {
    return make_error(broker_errc::topic_already_exists,
                      fmt::format("topic '{}' already exists", name));
  }
  topic_info info{{std::string(name), random_id(), partitions, overrides, now_ms}, *config};
  if (validate_only) return info;
  auto next = std::make_shared<topic_map>(*current);
  next->emplace(std::string(name), info);
  if (auto r = persist_and_publish(std::move(next)); !r) return r.error();
  return info;
}

result<topic_info> topic_registry::remove(std::string_view name) {
  auto current = snapshot();
  auto it = current->find(name);
  if (it == current->end()) {
    return make_error(broker_errc::unknown_topic, fmt::format("topic '{}' does not exist", name));
  }
  topic_info removed = it->second;
  auto next = std::make_shared<topic_map>(*current);
  next->erase(std::string(name));
  if (auto r = persist_and_publish(std::move(next)); !r) return r.error();
  return removed;
}

result<topic_info> topic_registry::alter(std::string_view name, const config_overrides& set,
                                         const std::vector<std::string>& reset,
                                         bool validate_only) {
  auto current = snapshot();
  auto it = current->find(name);
  if (it == current->end()) {
    return make_error(broker_errc::unknown_topic, fmt::format("topic '{}' does not exist", name));
  }
  topic_info info = it->second;
  for (const auto& key : reset) {
    const auto& names = topic_config_names();
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      return make_error(broker_errc::invalid_config,
                        fmt::format("cannot reset unknown topic config '{}'", key));
    }
    if (set.contains(key)) {
      return make_error(broker_errc::invalid_config,
                        fmt::format("topic config '{}' is both set and reset", key));
    }
    info.record.overrides.erase(key);
  }
  for (const auto& [key, value] : set) info.record.overrides[key] = value;
  auto config = apply_overrides(defaults_, info.record.overrides);
  if (!config) return config.error();
  info.config = *config;
  if (validate_only) return info;
  auto next = std::make_shared<topic_map>(*current);
  (*next)[std::string(name)] = info;
  if (auto r = persist_and_publish(std::move(next)); !r) return r.error();
  return info;
}

}  // namespace sluice
