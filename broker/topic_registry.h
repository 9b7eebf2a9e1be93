#pragma once
// The broker's topics: what exists, with how many partitions and which config. Persisted in
// topics.meta (metadata_store.h) before any change takes effect on disk or on the wire, so a
// crash never leaves a partition directory the metadata does not know about unexplained.
//
// Threading: readers on any thread take a snapshot (an immutable map, cheap to copy); changes
// come from the controller only (one at a time) and publish a new snapshot.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "broker/metadata_store.h"
#include "broker/topic_config.h"
#include "protocol/result.h"
#include "segment/log_config.h"

namespace sluice {

struct topic_info {
  topic_record record;
  log_config config;  // defaults + overrides
};

using topic_map = std::map<std::string, topic_info, std::less<>>;

class topic_registry {
 public:
  topic_registry(std::filesystem::path data_dir, log_config defaults)
      : data_dir_(std::move(data_dir)), defaults_(defaults) {}

  // Reads topics.meta. Fails (naming topic and key) when stored overrides no longer validate,
  // rather than run a topic with settings nobody chose.
  [[nodiscard]] result<void> load();

  [[nodiscard]] std::shared_ptr<const topic_map> snapshot() const;
  [[nodiscard]] const log_config& defaults() const { return defaults_; }

  // Controller only. Each validates, persists, then publishes; on error nothing changes.
  [[nodiscard]] result<topic_info> create(std::string_view name, std::int32_t partitions,
                                          const config_overrides& overrides, bool validate_only,
                                          std::int64_t now_ms);
  [[nodiscard]] result<topic_info> remove(std::string_view name);
  [[nodiscard]] result<topic_info> alter(std::string_view name, const config_overrides& set,
                                         const std::vector<std::string>& reset, bool validate_only);

  static constexpr std::int32_t max_partitions = 10'000;

 private:
  [[nodiscard]] result<void> persist_and_publish(std::shared_ptr<topic_map> next);

  std::filesystem::path data_dir_;
  log_config defaults_;
  mutable std::mutex mutex_;  // guards the pointer only; maps are immutable once published
  std::shared_ptr<const topic_map> topics_ = std::make_shared<topic_map>();
};

}  // namespace sluice
