#pragma once
// The controller: the one place topics are created, deleted and reconfigured, and producer ids
// handed out. It runs on its own thread so the fsyncs of metadata files never stall a shard,
// and runs one topic operation at a time, so two admin requests about the same topic cannot
// interleave. Partition work (open, close, reconfigure) is posted to the owning shards. A
// producer id is handed out at once, between the steps of a topic operation in progress.
//
// Completion handlers run on the controller's thread; callers post onward.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "broker/broker_config.h"
#include "broker/metadata_store.h"
#include "broker/topic_registry.h"
#include "protocol/result.h"

namespace sluice {

class shard;

class controller {
 public:
  template <class T>
  using handler = std::function<void(result<T>)>;

  controller(const broker_config& config, topic_registry& topics,
             std::vector<std::unique_ptr<shard>>& shards, broker_record identity);
  ~controller();
  controller(const controller&) = delete;
  controller& operator=(const controller&) = delete;

  void start();
  // Runs every queued operation to its end, then stops the thread. The shards must still be
  // running: operations post to them.
  void join();
  [[nodiscard]] boost::asio::io_context& context() { return ctx_; }
  // Any thread may read broker_id and cluster_id (fixed after start-up); producer_id_block_end
  // is the controller thread's.
  [[nodiscard]] const broker_record& identity() const { return identity_; }

  // Opens every partition of every known topic on its shard. Blocking; at start-up only,
  // before the broker accepts connections.
  [[nodiscard]] result<void> open_all_partitions();

  void create_topic(std::string name, std::int32_t partitions, config_overrides configs,
                    bool validate_only, handler<void> done);
  void delete_topic(std::string name, handler<void> done);
  void alter_topic_config(std::string name, config_overrides set, std::vector<std::string> reset,
                          bool validate_only, handler<void> done);
  void init_producer_id(handler<std::int64_t> done);

 private:
  using operation = std::function<void(std::function<void()> finished)>;
  // Queues an operation; it starts once every earlier one has called `finished`.
  void submit(operation op);
  void run_next();
  using step_done = std::function<void(result<void>)>;
  // Work on one partition, on its shard's thread; calls its step_done (on that thread) once
  // finished.
  using partition_step = std::function<void(shard&, std::int32_t, step_done)>;
  // Runs `step` for every partition of a topic, one partition at a time per shard, each next
  // one queued behind what the shard's clients queued meanwhile: creating or deleting a topic
  // of thousands of partitions must not stall every other partition on the shard for seconds.
  // `done` gets the first error once all have answered; after_error::stop leaves the partitions
  // not yet reached alone once one step failed (an opening that ran out of descriptors or space
  // would fail for every one after it too).
  enum class after_error { go_on, stop };
  void for_each_partition(const topic_info& topic, partition_step step,
                          std::function<void(result<void>)> done,
                          after_error then = after_error::go_on);
  struct shard_walk {
    shard* on;
    std::vector<std::int32_t> partitions;
    std::size_t next;
    result<void> first;
    std::shared_ptr<partition_step> step;
    std::shared_ptr<std::atomic<bool>> gave_up;  // shared by the topic's walks; null: go on
    std::function<void(result<void>)> finished;
  };
  static void step_on_shard(const std::shared_ptr<shard_walk>& walk);
  void close_partitions(const topic_info& topic, std::function<void(result<void>)> done);
  [[nodiscard]] result<void> remove_partition_dirs(const topic_info& topic);
  // Closes and removes what a create that failed part-way made, and the topic's record.
  void undo_create(const topic_info& info, std::function<void()> undone);

  const broker_config& config_;
  topic_registry& topics_;
  std::vector<std::unique_ptr<shard>>& shards_;
  broker_record identity_;
  std::int64_t next_producer_id_;
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::deque<operation> queue_;
  bool busy_ = false;
  std::function<void()> when_idle_;  // join()'s wake-up once the queue is empty
  std::thread thread_;
};

// Moves a partition directory aside (<dir>.deleted, atomically) and removes it. Leftover
// *.deleted directories from a crash are removed at start-up.
[[nodiscard]] result<void> remove_partition_dir(const std::filesystem::path& data_dir,
                                                const std::string& dir_name);
[[nodiscard]] result<void> remove_deleted_leftovers(const std::filesystem::path& data_dir);
// Removes partition directories no topic of `topics` owns: what a crash during a topic deletion
// left under the partitions' own names (the topic was already gone from topics.meta). A later
// topic of that name must start empty. Only called when topics.meta was read: without it, every
// partition would look unowned.
[[nodiscard]] result<void> remove_unowned_partition_dirs(const std::filesystem::path& data_dir,
                                                         const topic_map& topics);

}  // namespace sluice
