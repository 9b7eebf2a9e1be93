#pragma once
// A whole broker process: data directory, metadata, shards, controller, service core and the
// native-protocol listener, started and stopped in the right order.
//
//   start(): lock the data dir (one broker per dir), load broker.meta and topics.meta, remove
//            leftovers of interrupted deletions, start shards and the controller, open (and
//            recover) every partition, listen, write the ready file.
//   stop():  stop accepting; let connections finish their requests (long polls answer at once);
//            close every partition log (fdatasync + clean checkpoint); join the threads.

#include <atomic>
#include <memory>
#include <vector>

#include "broker/broker_config.h"
#include "protocol/result.h"

namespace sluice {

class controller;
class disk_space_monitor;
class listener;
class service;
class shard;
class topic_registry;

class broker {
 public:
  explicit broker(broker_config config);
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  [[nodiscard]] result<void> start();
  // Blocks until SIGTERM or SIGINT, then stop()s.
  [[nodiscard]] result<void> run_until_signalled();
  [[nodiscard]] result<void> stop();

  [[nodiscard]] std::uint16_t port() const { return config_.port; }

 private:
  [[nodiscard]] result<void> lock_data_dir();
  [[nodiscard]] result<void> load_identity();
  [[nodiscard]] result<void> write_ready_file() const;
  void wake_all_fetches();
  void wait_for_connections_to_close();
  [[nodiscard]] result<void> close_all_partitions();

  struct signal_watch;
  std::unique_ptr<signal_watch> signals_;
  broker_config config_;
  int lock_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<topic_registry> topics_;
  std::unique_ptr<disk_space_monitor> disk_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::unique_ptr<controller> controller_;
  std::unique_ptr<service> service_;
  std::unique_ptr<listener> listener_;
  bool started_ = false;
};

}  // namespace sluice
