#pragma once
// A shard: one thread running one asio::io_context, with its own I/O backend (one io_uring)
// and the partitions it owns. Only this thread touches those partitions; other threads reach
// them by posting to executor(). Connections are spread over shards too.
//
// Lifecycle: construct, start() (spawns the thread), then post work; stop_partitions() closes
// every partition (clean checkpoints); join() after the io_context has run out of work or was
// stopped.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/partition.h"
#include "segment/io/backend.h"
#include "segment/io/fault_spec.h"
#include "segment/page_cache_budget.h"

namespace sluice {

class shard {
 public:
  // data_dir: the directory the shard's logs live under, opened now for syncfs (see
  // io::make_backend). With fault rules (tests only), the backend is wrapped in an
  // io::faulty_backend applying them.
  shard(std::size_t index, io::backend_kind backend, const std::filesystem::path& data_dir = {},
        const std::vector<io::fault_rule>& faults = {});
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  // Before start(): keep polling this long after the last work before sleeping (see
  // broker_config::busy_poll).
  void set_busy_poll(std::chrono::microseconds d) { busy_poll_ = d; }
  // Before start(): every partition the shard opens shares this (segment/page_cache_budget.h).
  void set_page_cache_budget(std::shared_ptr<page_cache_budget> b) { cache_budget_ = std::move(b); }
  void start();
  // Lets the io_context finish once it has no other work, and joins the thread.
  void join();

  [[nodiscard]] std::size_t index() const { return index_; }
  [[nodiscard]] boost::asio::io_context& context() { return ctx_; }
  [[nodiscard]] boost::asio::any_io_executor executor() { return ctx_.get_executor(); }
  [[nodiscard]] std::string_view backend_name() const { return io_->name(); }

  // ---- on this shard's thread only ----
  [[nodiscard]] partition* find(std::string_view topic, std::int32_t index);
  // Opens (or creates) the partition's log under data_dir and takes ownership.
  [[nodiscard]] result<partition*> open_partition(const partition_id& id,
                                                  const std::filesystem::path& data_dir,
                                                  const log_config& config);
  // A partition whose log could not be opened at start-up: offline with that error (produce,
  // fetch and describe answer with it) until the broker restarts; the others are served.
  void mark_unopened(const partition_id& id, error why);
  [[nodiscard]] const error* unopened(std::string_view topic, std::int32_t index) const;
  // Closes the partition's log and forgets it; done runs once the log is closed.
  void close_partition(const partition_id& id, std::function<void(result<void>)> done);
  // Closes every partition; done runs when all are closed (with the first error, if any). No
  // partition opens after it: a topic creation still queued at shutdown fails instead.
  void close_all(std::function<void(result<void>)> done);
  // Runs enforce_retention on every partition every `interval`.
  void start_retention(std::chrono::milliseconds interval);
  // Every second, lets each partition notice it went idle in the page cache budget
  // (partition_log::check_page_cache_idle). Only with a budget (set_page_cache_budget).
  void start_page_cache_checks();
  template <class F>
  void for_each_partition(F&& f) {
    for (auto& [id, p] : partitions_) f(*p);
  }

 private:
  void run_retention();
  // The shard thread's loop under busy polling (ctx_.run() without it).
  void run_polling();

  std::size_t index_;
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<io::backend> io_;
  std::map<partition_id, std::unique_ptr<partition>, std::less<>> partitions_;
  std::map<partition_id, error, std::less<>> unopened_;
  boost::asio::steady_timer retention_timer_;
  std::chrono::milliseconds retention_interval_{0};
  std::chrono::microseconds busy_poll_{0};
  std::shared_ptr<page_cache_budget> cache_budget_;
  boost::asio::steady_timer cache_idle_timer_;
  bool cache_checks_on_ = false;
  bool closed_ = false;
  std::thread thread_;
};

// Which shard owns a partition: spread by topic and partition so a topic's partitions land on
// different shards.
[[nodiscard]] std::size_t shard_of(std::string_view topic, std::int32_t partition,
                                   std::size_t shard_count);

}  // namespace sluice
