#pragma once
// The service core: what the broker does, independent of any wire protocol. Front ends (the
// native protocol's handlers today, Kafka's and HTTP later) decode a request, call these, and
// encode the answer; no business logic lives in a codec.
//
// Threading: every method may be called from any shard. Partition work is posted to the shard
// that owns the partition; admin work to the controller (one operation at a time). Handlers are
// posted to the `reply` executor the caller passes (normally its own shard), never run inline.

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_config.h"
#include "broker/data_waiter.h"
#include "broker/metadata_store.h"
#include "broker/partition.h"
#include "broker/topic_registry.h"
#include "protocol/bytes.h"
#include "protocol/held_bytes.h"
#include "protocol/result.h"

namespace sluice {

class controller;
class disk_space_monitor;
class shard;

class service {
 public:
  using executor = boost::asio::any_io_executor;
  template <class T>
  using handler = std::function<void(result<T>)>;

  service(const broker_config& config, topic_registry& topics,
          std::vector<std::unique_ptr<shard>>& shards, controller& ctl, disk_space_monitor& disk);

  // ---- partitions ----
  void produce(executor reply, std::string topic, std::int32_t partition, held_bytes batch,
               handler<produce_outcome> done);
  void read(executor reply, std::string topic, std::int32_t partition, offset from,
            std::size_t max_bytes, handler<read_outcome> done);
  // Registers a long-polling fetch on the partition, woken when data at or past `from` is
  // readable (no-op for unknown partitions).
  void watch(std::string topic, std::int32_t partition, std::shared_ptr<data_waiter> w,
             offset from);
  void list_offset(executor reply, std::string topic, std::int32_t partition, std::int64_t spec,
                   handler<partition::listed_offset> done);
  void describe_partition(executor reply, std::string topic, std::int32_t partition,
                          handler<partition_status> done);

  // ---- topics and producers (through the controller, one at a time) ----
  void create_topic(executor reply, std::string name, std::int32_t partitions,
                    config_overrides configs, bool validate_only, handler<void> done);
  void delete_topic(executor reply, std::string name, handler<void> done);
  void alter_topic_config(executor reply, std::string name, config_overrides set,
                          std::vector<std::string> reset, bool validate_only, handler<void> done);
  void init_producer_id(executor reply, handler<std::int64_t> done);

  // ---- metadata (any thread, immediate) ----
  [[nodiscard]] std::shared_ptr<const topic_map> topics() const { return topics_.snapshot(); }
  [[nodiscard]] const log_config& topic_defaults() const { return topics_.defaults(); }
  [[nodiscard]] const broker_config& config() const { return config_; }
  [[nodiscard]] const broker_record& identity() const;

 private:
  // Runs f(partition&) on the owning shard and posts its result to `reply`; unknown topics
  // and partitions fail with the reason.
  template <class T, class F>
  void on_partition(executor reply, std::string topic, std::int32_t index, handler<T> done, F&& f);
  [[nodiscard]] error missing_partition(std::string_view topic, std::int32_t index) const;

  const broker_config& config_;
  topic_registry& topics_;
  std::vector<std::unique_ptr<shard>>& shards_;
  controller& controller_;
  disk_space_monitor& disk_;
};

}  // namespace sluice
