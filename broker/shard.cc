#include "broker/shard.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include "broker/errc.h"
#include "segment/io/faulty_backend.h"

namespace sluice {

std::size_t shard_of(std::string_view topic, std::int32_t partition, std::size_t shard_count) {
  const std::size_t h = std::hash<std::string_view>{}(topic);
  return (h + static_cast<std::size_t>(partition)) % shard_count;
}

namespace {

std::unique_ptr<io::backend> make_shard_backend(boost::asio::io_context& ctx, io::backend_kind kind,
                                                const std::filesystem::path& data_dir,
                                                const std::vector<io::fault_rule>& faults) {
  auto inner = io::make_backend(ctx, kind, data_dir);
  if (faults.empty()) return inner;
  auto faulty = std::make_unique<io::faulty_backend>(ctx, std::move(inner));
  for (const auto& rule : faults) faulty->add_rule(rule);
  return faulty;
}

}  // namespace

shard::shard(std::size_t index, io::backend_kind backend, const std::filesystem::path& data_dir,
             const std::vector<io::fault_rule>& faults)
    : index_(index),
      work_(boost::asio::make_work_guard(ctx_)),
      io_(make_shard_backend(ctx_, backend, data_dir, faults)),
      retention_timer_(ctx_),
      cache_idle_timer_(ctx_) {}

shard::~shard() {
  work_.reset();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
}

void shard::start() {
  thread_ = std::thread([this] {
    const auto name = fmt::format("shard-{}", index_);
    pthread_setname_np(pthread_self(), name.c_str());
    if (busy_poll_.count() > 0) {
      run_polling();
    } else {
      ctx_.run();
    }
  });
}

void shard::run_polling() {
  // poll() runs what is ready without sleeping; only after busy_poll_ with nothing to do does
  // run_one() sleep until the next handler. Ends as run() does: stopped, or out of work.
  using steady = std::chrono::steady_clock;
  auto last_work = steady::now();
  while (!ctx_.stopped()) {
    if (ctx_.poll() > 0) {
      last_work = steady::now();
    } else if (steady::now() - last_work >= busy_poll_) {
      if (ctx_.run_one() == 0) return;
      last_work = steady::now();
    }
  }
}

void shard::join() {
  work_.reset();
  if (thread_.joinable()) thread_.join();
}

partition* shard::find(std::string_view topic, std::int32_t index) {
  // std::map<partition_id> needs a partition_id to look up; topics are short, so this is a
  // small-string copy at worst.
  auto it = partitions_.find(partition_id{std::string(topic), index});
  return it == partitions_.end() ? nullptr : it->second.get();
}

result<partition*> shard::open_partition(const partition_id& id,
                                         const std::filesystem::path& data_dir,
                                         const log_config& config) {
  if (auto* p = find(id.topic, id.partition)) return p;
  // Opened after close_all, a partition would never be closed (nor its flush timer stopped).
  if (closed_) return make_error(broker_errc::shutting_down, "the broker is shutting down");
  auto p = partition::open(id, data_dir / id.dir_name(), config, *io_, ctx_);
  if (!p) return p.error();
  if (cache_budget_) (*p)->join_page_cache_budget(cache_budget_);
  auto* raw = p->get();
  partitions_.emplace(id, std::move(*p));
  return raw;
}

void shard::mark_unopened(const partition_id& id, error why) {
  unopened_.insert_or_assign(id, std::move(why));
}

const error* shard::unopened(std::string_view topic, std::int32_t index) const {
  auto it = unopened_.find(partition_id{std::string(topic), index});
  return it == unopened_.end() ? nullptr : &it->second;
}

void shard::close_partition(const partition_id& id, std::function<void(result<void>)> done) {
  unopened_.erase(id);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) {
    done({});
    return;
  }
  std::shared_ptr<partition> p(std::move(it->second));
  partitions_.erase(it);
  p->close([p, done = std::move(done)](result<void> r) { done(std::move(r)); });
}

void shard::close_all(std::function<void(result<void>)> done) {
  closed_ = true;
  retention_timer_.cancel();
  retention_interval_ = std::chrono::milliseconds(0);
  cache_idle_timer_.cancel();
  cache_checks_on_ = false;
  if (partitions_.empty()) {
    done({});
    return;
  }
  struct join_state {
    std::size_t remaining;
    result<void> first = {};
    std::function<void(result<void>)> done;
  };
  auto state = std::make_shared<join_state>(join_state{partitions_.size(), {}, std::move(done)});
  auto all = std::move(partitions_);
  partitions_.clear();
  for (auto& [id, p] : all) {
    std::shared_ptr<partition> owned(std::move(p));
    owned->close([owned, state](result<void> r) {
      if (!r) {
        spdlog::error("closing {}: {}", owned->id().dir_name(), r.error().message());
        if (state->first) state->first = r.error();
      }
      if (--state->remaining == 0) state->done(state->first);
    });
  }
}

void shard::start_retention(std::chrono::milliseconds interval) {
  retention_interval_ = interval;
  retention_timer_.expires_after(interval);
  retention_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || retention_interval_.count() == 0) return;
    run_retention();
    start_retention(retention_interval_);
  });
}

void shard::start_page_cache_checks() {
  if (!cache_budget_) return;
  cache_checks_on_ = true;
  cache_idle_timer_.expires_after(std::chrono::seconds(1));
  cache_idle_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !cache_checks_on_) return;
    for (auto& [id, p] : partitions_) p->check_page_cache_idle();
    start_page_cache_checks();
  });
}

void shard::run_retention() {
  for (auto& [id, p] : partitions_) {
    auto r = p->enforce_retention();
    if (!r) {
      spdlog::warn("retention of {}: {}", id.dir_name(), r.error().message());
    } else if (*r > 0) {
      spdlog::info("retention deleted {} segment(s) of {}", *r, id.dir_name());
    }
  }
}

}  // namespace sluice
