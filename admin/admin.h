#pragma once
// The Sluice admin client: topics (create, list, describe, delete, alter configs), broker
// metadata and partition offsets. Every call is synchronous and returns a result; broker
// errors arrive as wire::ErrorCode values (protocol/wire_errc.h) with the broker's message.
//
//   auto a = sluice::admin::create({.brokers = "127.0.0.1:9190"}).value();
//   a->create_topic({.name = "events", .partitions = 3, .configs = {{"retention.ms",
//   "86400000"}}}); for (auto& t : a->list_topics().value()) ...
//
// Connections: one to the first reachable bootstrap broker, opened on the first call and again
// after it drops; a read-only call (list, describe, list_offset) whose connection dropped with
// it in flight is sent once more.
// Threading: every method may be called from any thread (calls are pipelined on the io thread).
// Public structs are default-initialised, so designated initializers may leave any field out.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/result.h"

namespace sluice {

struct admin_config {
  std::string brokers{};  // as producer_config::brokers
  std::string client_id = "sluice-admin";
  std::chrono::milliseconds request_timeout{30'000};

  // client_errc::invalid_argument naming the setting (a non-positive timeout, a bad broker
  // address); no_brokers when the list is empty.
  [[nodiscard]] result<void> validate() const;
};

struct topic_spec {
  std::string name{};
  std::int32_t partitions = 1;
  std::map<std::string, std::string> configs{};  // retention.ms, segment.bytes, flush, ...
};

struct config_value {
  std::string name{};
  std::string value{};
  bool is_default = false;
};

struct partition_description {
  std::int32_t partition = 0;
  std::int32_t leader = -1;
  std::int64_t log_start_offset = -1;
  std::int64_t high_watermark = -1;
  std::int64_t log_end_offset = -1;
  std::int64_t size_bytes = 0;
  std::int32_t segments = 0;
  std::optional<error> problem{};  // e.g. storage_error: the partition is offline
};

struct topic_description {
  std::string name{};
  std::string topic_id{};
  std::vector<config_value> configs{};
  std::vector<partition_description> partitions{};
};

struct broker_description {
  std::int32_t id = -1;
  std::string host{};
  std::int32_t port = 0;
};

struct topic_metadata {
  std::string name{};
  std::string topic_id{};
  std::int32_t partitions = 0;
};

struct cluster_description {
  std::string cluster_id{};
  std::int32_t controller_id = -1;
  std::vector<broker_description> brokers{};
  std::vector<topic_metadata> topics{};
};

// ListOffsets specs.
inline constexpr std::int64_t earliest_offset_spec = -2;
inline constexpr std::int64_t latest_offset_spec = -1;

class admin {
 public:
  [[nodiscard]] static result<std::unique_ptr<admin>> create(admin_config config);
  ~admin();
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  // Both wait for the broker beyond request_timeout, as long as opening the topic's partitions
  // (20 ms each) or closing any topic's (60 s) may take.
  [[nodiscard]] result<void> create_topic(const topic_spec& spec, bool validate_only = false);
  [[nodiscard]] result<void> delete_topic(const std::string& name);
  [[nodiscard]] result<std::vector<std::string>> list_topics();
  [[nodiscard]] result<topic_description> describe_topic(const std::string& name);
  // Empty names: every topic.
  [[nodiscard]] result<std::vector<topic_description>> describe_topics(
      const std::vector<std::string>& names = {});
  // Sets `set`, returns `reset` names to the broker default; all or nothing.
  [[nodiscard]] result<void> alter_topic_config(const std::string& name,
                                                const std::map<std::string, std::string>& set,
                                                const std::vector<std::string>& reset = {},
                                                bool validate_only = false);
  [[nodiscard]] result<cluster_description> describe_cluster();
  // earliest_offset_spec, latest_offset_spec, or a timestamp (first offset with ts >= it;
  // nullopt when no record is that late).
  [[nodiscard]] result<std::optional<std::int64_t>> list_offset(const std::string& topic,
                                                                std::int32_t partition,
                                                                std::int64_t spec);

 private:
  struct impl;
  explicit admin(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice
