#pragma once
// Reading and writing the broker's metadata files (schema: broker/metadata.fbs):
//   <data-dir>/broker.meta   broker id, cluster id, the end of the producer ids handed out
//   <data-dir>/topics.meta   every topic: name, id, partition count, config overrides
// Writes replace the file atomically; reads verify the flatbuffer and fail with corrupt_log
// (naming the file) rather than guess.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "broker/topic_config.h"
#include "protocol/result.h"

namespace sluice {

struct topic_record {
  std::string name;
  std::string topic_id;  // 32 hex digits, new for every creation of a name
  std::int32_t partitions = 0;
  config_overrides overrides;
  std::int64_t created_ms = 0;
};

struct broker_record {
  std::int32_t broker_id = 0;
  std::string cluster_id;
  std::int64_t producer_id_block_end = 0;
};

inline constexpr const char* topics_file_name = "topics.meta";
inline constexpr const char* broker_file_name = "broker.meta";

// Empty when the file does not exist (a new data directory).
[[nodiscard]] result<std::vector<topic_record>> load_topics(const std::filesystem::path& data_dir);
[[nodiscard]] result<void> save_topics(const std::filesystem::path& data_dir,
                                       const std::vector<topic_record>& topics);

[[nodiscard]] result<std::optional<broker_record>> load_broker_record(
    const std::filesystem::path& data_dir);
[[nodiscard]] result<void> save_broker_record(const std::filesystem::path& data_dir,
                                              const broker_record& rec);

// 32 random hex digits, for topic and cluster ids.
[[nodiscard]] std::string random_id();

}  // namespace sluice
