#include "broker/broker.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <future>
#include <thread>

#include "broker/controller.h"
#include "broker/disk_space_monitor.h"
#include "broker/errc.h"
#include "broker/metadata_store.h"
#include "broker/server/listener.h"
#include "broker/service.h"
#include "broker/shard.h"
#include "broker/topic_registry.h"
#include "protocol/api_versions.h"
#include "segment/atomic_file.h"
#include "segment/partition_log.h"

namespace sluice {

namespace fs = std::filesystem;
namespace asio = boost::asio;

broker::broker(broker_config config) : config_(std::move(config)) {}

broker::~broker() {
  if (started_) {
    if (auto r = stop(); !r) spdlog::error("stopping the broker: {}", r.error().message());
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

result<void> broker::lock_data_dir() {
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) return make_errno_error(ec.value(), "create data dir " + config_.data_dir.string());
  const auto path = config_.data_dir / ".lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return make_errno_error(errno, "open " + path.string());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return make_errno_error(errno, fmt::format("{} is in use by another sluiced (lock {})",
                                               config_.data_dir.string(), path.string()));
  }
  return {};
}

result<void> broker::load_identity() {
  auto existing = load_broker_record(config_.data_dir);
  if (!existing) return existing.error();
  if (*existing) {
    if ((*existing)->broker_id != config_.broker_id) {
      return make_error(
          broker_errc::invalid_config,
          fmt::format("{} belongs to broker id {}, not --broker-id {}", config_.data_dir.string(),
                      (*existing)->broker_id, config_.broker_id));
    }
    return {};
  }
  broker_record fresh{config_.broker_id, random_id(), 0};
  return save_broker_record(config_.data_dir, fresh);
}

// SIGTERM/SIGINT, caught from start() on: asio's signal_set installs its handler when it is
// constructed and keeps a signal until someone waits for it.
struct broker::signal_watch {
  asio::io_context context;
  asio::signal_set signals{context, SIGTERM, SIGINT};
};

result<void> broker::start() {
  // Before anything a client could see (the ready file): a SIGTERM right after start-up must
  // mean a clean shutdown, not the default action; and the signal's file descriptors are
  // taken while descriptors are surely available.
  signals_ = std::make_unique<signal_watch>();
  if (auto r = lock_data_dir(); !r) return r;
  if (auto r = load_identity(); !r) return r;
  auto identity = load_broker_record(config_.data_dir);
  if (!identity) return identity.error();
  // What deleted topics left is only litter: a directory that will not go is named and left
  // (a topic created under its name removes it first, or fails saying why), and every topic
  // that exists is served.
  if (auto r = remove_deleted_leftovers(config_.data_dir); !r) {
    spdlog::warn("removing what deleted topics left: {}", r.error().message());
  }
  topics_ = std::make_unique<topic_registry>(config_.data_dir, config_.log_defaults);
  if (auto r = topics_->load(); !r) return r;
  if (fs::exists(config_.data_dir / topics_file_name)) {
    if (auto r = remove_unowned_partition_dirs(config_.data_dir, *topics_->snapshot()); !r) {
      spdlog::warn("removing partition directories no topic owns: {}", r.error().message());
    }
  }
  disk_ = std::make_unique<disk_space_monitor>(config_.data_dir, config_.min_free_bytes);
  // -1: no budget at all, so each log keeps what its topic says, idle or not.
  auto cache_budget = config_.page_cache_budget_bytes < 0
                          ? nullptr
                          : std::make_shared<page_cache_budget>(config_.page_cache_budget_bytes);
  partition_log::recycle_segments = config_.recycle_segments;
  for (std::size_t i = 0; i < config_.shards; ++i) {
    shards_.push_back(
        std::make_unique<shard>(i, config_.io_backend, config_.data_dir, config_.fault_rules));
    shards_.back()->set_busy_poll(config_.busy_poll);
    shards_.back()->set_page_cache_budget(cache_budget);
  }
  for (const auto& rule : config_.fault_rules) {
    spdlog::warn("TEST-ONLY fault injection ({}): {}", io::fault_injection_env_var, rule.text);
  }
  spdlog::info(
      "sluiced {} starting: data_dir={} shards={} io_backend={} busy_poll_us={} "
      "page_cache_budget_bytes={} segment_recycling={} topics={}",
      software_version, config_.data_dir.string(), shards_.size(), shards_.front()->backend_name(),
      config_.busy_poll.count(), config_.page_cache_budget_bytes, config_.recycle_segments,
      topics_->snapshot()->size());
  for (auto& s : shards_) s->start();
  controller_ = std::make_unique<controller>(config_, *topics_, shards_, **identity);
  controller_->start();
  started_ = true;
  if (auto r = controller_->open_all_partitions(); !r) return r;
  for (auto& s : shards_) {
    asio::post(s->context(), [sh = s.get(), every = config_.retention_check_interval] {
      sh->start_retention(every);
      sh->start_page_cache_checks();
    });
  }
  service_ = std::make_unique<service>(config_, *topics_, shards_, *controller_, *disk_);
  connection_limits limits{config_.max_request_bytes, config_.max_connection_in_flight_bytes,
                           config_.idle_timeout, config_.frame_read_timeout, config_.write_timeout};
  listener_ =
      std::make_unique<listener>(shards_, *service_, limits, config_.max_connections,
                                 config_.max_in_flight_bytes, [this] { return stopping_.load(); });
  if (auto r = listener_->bind(config_.host, config_.port); !r) return r;
  config_.port = listener_->port();  // before any client can ask for Metadata
  listener_->start_accepting();
  spdlog::info("sluiced ready: listening on {}:{} (cluster {}, broker {})", config_.host,
               config_.port, (*identity)->cluster_id, config_.broker_id);
  return write_ready_file();
}

result<void> broker::write_ready_file() const {
  if (!config_.ready_file) return {};
  const auto text = fmt::format("{}\n", config_.port);
  return replace_file_atomically(*config_.ready_file, as_bytes(text));
}

result<void> broker::run_until_signalled() {
  if (!signals_) signals_ = std::make_unique<signal_watch>();
  signals_->signals.async_wait([](boost::system::error_code ec, int sig) {
    if (!ec) spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  signals_->context.run();
  return stop();
}

void broker::wake_all_fetches() {
  for (auto& s : shards_) {
    asio::post(s->context(),
               [sh = s.get()] { sh->for_each_partition([](partition& p) { p.wake_waiters(); }); });
  }
}

void broker::wait_for_connections_to_close() {
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
  // Waiting fetches are woken again and again: one that was between two reads when stopping
  // began registers its waiter afterwards and must be woken too. A fetch whose client has gone
  // needs no wake: the connection's close abandoned it (fetch_operation::abandon).
  while (listener_->live_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    wake_all_fetches();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (listener_->live_connections() > 0) {
    spdlog::warn("{} connection(s) still busy after {} ms; closing them",
                 listener_->live_connections(), config_.shutdown_timeout.count());
    listener_->close_remaining();
  }
}

result<void> broker::close_all_partitions() {
  std::vector<std::future<result<void>>> closed;
  for (auto& s : shards_) {
    auto done = std::make_shared<std::promise<result<void>>>();
    closed.push_back(done->get_future());
    asio::post(s->context(), [sh = s.get(), done] {
      sh->close_all([done](result<void> r) { done->set_value(std::move(r)); });
    });
  }
  result<void> first;
  for (auto& f : closed) {
    auto r = f.get();
    if (!r && first) first = r;
  }
  return first;
}

result<void> broker::stop() {
  if (!started_) return {};
  started_ = false;
  stopping_ = true;
  if (listener_) {
    listener_->stop();
    wait_for_connections_to_close();
  }
  // Topic operations whose requests came in before the stop run to their end first, while the
  // shards still serve their partitions.
  controller_->join();
  auto closed = close_all_partitions();
  for (auto& s : shards_) s->join();
  if (closed) spdlog::info("sluiced stopped cleanly");
  return closed;
}

}  // namespace sluice
