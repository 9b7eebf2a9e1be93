#include "broker/controller.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <cctype>
#include <charconv>
#include <future>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/descriptor_budget.h"
#include "broker/producer_snapshot.h"
#include "broker/shard.h"
#include "segment/atomic_file.h"
#include "segment/checkpoint.h"
#include "segment/clock.h"
#include "segment/errc.h"
#include "segment/segment.h"

namespace sluice {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

constexpr std::int64_t producer_id_block = 1000;

}  // namespace

controller::controller(const broker_config& config, topic_registry& topics,
                       std::vector<std::unique_ptr<shard>>& shards, broker_record identity)
    : config_(config),
      topics_(topics),
      shards_(shards),
      identity_(std::move(identity)),
      next_producer_id_(identity_.producer_id_block_end),
      work_(asio::make_work_guard(ctx_)) {}

controller::~controller() {
  work_.reset();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
}

void controller::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "controller");
    ctx_.run();
  });
}

void controller::join() {
  if (!thread_.joinable()) return;
  // An operation waits for the shards between its steps, and the io_context holds no work
  // meanwhile: releasing the work guard at once would let the thread end mid-operation, leaving
  // a topic half deleted and its request unanswered. So the queue drains first.
  std::promise<void> drained;
  asio::post(ctx_, [this, &drained] {
    when_idle_ = [&drained] { drained.set_value(); };
    if (!busy_) std::exchange(when_idle_, {})();
  });
  drained.get_future().wait();
  work_.reset();
  thread_.join();
}

result<void> controller::open_all_partitions() {
  auto topics = topics_.snapshot();
  std::vector<std::future<result<void>>> opened;
  for (auto& s : shards_) {
    auto task = std::make_shared<std::packaged_task<result<void>()>>([&, sh = s.get()] {
      for (const auto& [name, info] : *topics) {
        for (std::int32_t p = 0; p < info.record.partitions; ++p) {
          if (shard_of(name, p, shards_.size()) != sh->index()) continue;
          const partition_id id{name, p};
          auto r = sh->open_partition(id, config_.data_dir, info.config);
          if (!r) {
            // One unreadable partition must not keep the broker from serving the others.
            spdlog::error(
                "partition {} could not be opened: {}; it is offline until the "
                "broker restarts",
                id.dir_name(), r.error().message());
            sh->mark_unopened(
                id, make_error(log_errc::log_offline,
                               fmt::format("partition {} could not be opened at start-up: {}",
                                           id.dir_name(), r.error().message())));
          }
        }
      }
      return result<void>{};
    });
    opened.push_back(task->get_future());
    asio::post(s->context(), [task] { (*task)(); });
  }
  result<void> first;
  for (auto& f : opened) {
    auto r = f.get();
    if (!r && first) first = r;
  }
  return first;
}

void controller::submit(operation op) {
  asio::post(ctx_, [this, op = std::move(op)]() mutable {
    queue_.push_back(std::move(op));
    if (!busy_) run_next();
  });
}

void controller::run_next() {
  if (queue_.empty()) {
    busy_ = false;
    if (when_idle_) std::exchange(when_idle_, {})();
    return;
  }
  busy_ = true;
  auto op = std::move(queue_.front());
  queue_.pop_front();
  op([this] { asio::post(ctx_, [this] { run_next(); }); });
}

void controller::for_each_partition(const topic_info& topic, partition_step step,
                                    std::function<void(result<void>)> done, after_error then) {
  struct join_state {
    std::size_t remaining_shards;
    result<void> first;
    std::function<void(result<void>)> done;
  };
  std::vector<std::vector<std::int32_t>> by_shard(shards_.size());
  for (std::int32_t p = 0; p < topic.record.partitions; ++p) {
    by_shard[shard_of(topic.record.name, p, shards_.size())].push_back(p);
  }
  std::erase_if(by_shard, [](const auto& ps) { return ps.empty(); });
  auto state = std::make_shared<join_state>(join_state{by_shard.size(), {}, std::move(done)});
  auto shared_step = std::make_shared<partition_step>(std::move(step));
  auto gave_up = then == after_error::stop ? std::make_shared<std::atomic<bool>>(false) : nullptr;
  for (auto& partitions : by_shard) {
    shard& s = *shards_[shard_of(topic.record.name, partitions.front(), shards_.size())];
    auto walk = std::make_shared<shard_walk>(shard_walk{
        &s, std::move(partitions), 0, {}, shared_step, gave_up, [this, state](result<void> r) {
          asio::post(ctx_, [state, r = std::move(r)] {
            if (!r && state->first) state->first = r;
            if (--state->remaining_shards == 0) state->done(state->first);
          });
        }});
    asio::post(s.context(), [walk] { step_on_shard(walk); });
  }
}

void controller::step_on_shard(const std::shared_ptr<shard_walk>& walk) {
  if (walk->next == walk->partitions.size() || (walk->gave_up && *walk->gave_up)) {
    walk->finished(walk->first);
    return;
  }
  const auto p = walk->partitions[walk->next++];
  (*walk->step)(*walk->on, p, [walk](result<void> r) {
    if (!r && walk->first) {
      walk->first = r;
      if (walk->gave_up) *walk->gave_up = true;
    }
    // Behind whatever the shard queued meanwhile: its clients wait for one partition's work at
    // most, not for all of a large topic's.
    asio::post(walk->on->context(), [walk] { step_on_shard(walk); });
  });
}

void controller::create_topic(std::string name, std::int32_t partitions, config_overrides configs,
                              bool validate_only, handler<void> done) {
  submit([this, name = std::move(name), partitions, configs = std::move(configs), validate_only,
          done = std::move(done)](std::function<void()> finished) {
    const auto now = real_clock().now_ms();
    auto checked = topics_.create(name, partitions, configs, true, now);
    if (auto use = current_descriptor_use(); checked && use) {
      if (auto fits = check_descriptors_for(name, partitions, *use); !fits) checked = fits.error();
    }
    if (!checked || validate_only) {
      done(checked ? result<void>{} : result<void>(checked.error()));
      return finished();
    }
    // A directory left by an earlier topic of this name (deleted, then a crash before its
    // directories were removed) must not be mistaken for this topic's data: it goes before the
    // topic is recorded, so no crash can leave the new topic beside the old data.
    if (auto r = remove_partition_dirs(*checked); !r) {
      done(r);
      return finished();
    }
    auto created = topics_.create(name, partitions, configs, false, now);
    if (!created) {
      done(created.error());
      return finished();
    }
    spdlog::info("created topic {} ({} partitions, id {})", name, partitions,
                 created->record.topic_id);
    for_each_partition(
        *created,
        [this, info = *created](shard& s, std::int32_t p, step_done opened) {
          auto r = s.open_partition({info.record.name, p}, config_.data_dir, info.config);
          opened(r ? result<void>{} : result<void>(r.error()));
        },
        [this, info = *created, done, finished](result<void> r) {
          if (r) {
            done(std::move(r));
            return finished();
          }
          undo_create(info, [done, finished, r] {
            done(r);
            finished();
          });
        },
        after_error::stop);
  });
}

void controller::undo_create(const topic_info& info, std::function<void()> undone) {
  // A partition that could not be opened (no descriptors or space left): the topic is not
  // created after all, rather than half made and in topics.meta, where every restart would
  // try to open it again.
  spdlog::warn("creating topic {} failed; removing it again", info.record.name);
  close_partitions(info, [this, info, undone = std::move(undone)](result<void> /*closed*/) {
    if (auto removed = topics_.remove(info.record.name); !removed) {
      spdlog::error("topic {} stays half created: {}", info.record.name, removed.error().message());
    } else if (auto r = remove_partition_dirs(info); !r) {
      spdlog::warn("removing the directories of topic {}: {}", info.record.name,
                   r.error().message());
    }
    undone();
  });
}

void controller::delete_topic(std::string name, handler<void> done) {
  submit([this, name = std::move(name), done = std::move(done)](std::function<void()> finished) {
    auto removed = topics_.remove(name);
    if (!removed) {
      done(removed.error());
      return finished();
    }
    close_partitions(*removed, [this, info = *removed, done, finished](result<void> closed) {
      // The topic has left the registry: its directories go too, even when a partition did
      // not close cleanly (an offline log), or nothing would ever remove them.
      if (!closed) {
        spdlog::warn("deleting topic {}: {}", info.record.name, closed.error().message());
      }
      // The deletion is already persisted: a directory that will not go is the broker's to
      // remove later (at start-up, or when a topic of this name is created), not a failure to
      // report for a topic that no longer exists.
      if (auto r = remove_partition_dirs(info); !r) {
        spdlog::warn("deleted topic {}; its directories are removed at the next start-up: {}",
                     info.record.name, r.error().message());
      } else {
        spdlog::info("deleted topic {}", info.record.name);
      }
      done({});
      finished();
    });
  });
}

void controller::close_partitions(const topic_info& topic, std::function<void(result<void>)> done) {
  for_each_partition(
      topic,
      [name = topic.record.name](shard& s, std::int32_t p, step_done closed) {
        s.close_partition(partition_id{name, p}, std::move(closed));
      },
      std::move(done));
}

result<void> controller::remove_partition_dirs(const topic_info& topic) {
  // Past a directory that will not go: the others need not wait for a restart.
  result<void> first;
  for (std::int32_t p = 0; p < topic.record.partitions; ++p) {
    auto r = remove_partition_dir(config_.data_dir, partition_id{topic.record.name, p}.dir_name());
    if (!r && first) first = r;
  }
  return first;
}

void controller::alter_topic_config(std::string name, config_overrides set,
                                    std::vector<std::string> reset, bool validate_only,
                                    handler<void> done) {
  submit([this, name = std::move(name), set = std::move(set), reset = std::move(reset),
          validate_only, done = std::move(done)](std::function<void()> finished) {
    auto altered = topics_.alter(name, set, reset, validate_only);
    if (!altered || validate_only) {
      done(altered ? result<void>{} : result<void>(altered.error()));
      return finished();
    }
    spdlog::info("altered config of topic {}", name);
    for_each_partition(
        *altered,
        [info = *altered](shard& s, std::int32_t p, step_done reconfigured) {
          auto* part = s.find(info.record.name, p);
          reconfigured(part != nullptr ? part->reconfigure(info.config) : result<void>{});
        },
        [done, finished](result<void> r) {
          done(std::move(r));
          finished();
        });
  });
}

// Not queued behind the topic operations: it touches no topic, and a producer's first send
// must not wait for a creation of thousands of partitions (which mostly waits for the shards,
// leaving this thread free).
void controller::init_producer_id(handler<std::int64_t> done) {
  asio::post(ctx_, [this, done = std::move(done)] {
    if (next_producer_id_ >= identity_.producer_id_block_end) {
      broker_record next = identity_;
      next.producer_id_block_end = next_producer_id_ + producer_id_block;
      if (auto r = save_broker_record(config_.data_dir, next); !r) return done(r.error());
      // Only the block end: shards read broker_id and cluster_id concurrently, unlocked.
      identity_.producer_id_block_end = next.producer_id_block_end;
    }
    done(next_producer_id_++);
  });
}

result<void> remove_partition_dir(const fs::path& data_dir, const std::string& dir_name) {
  const fs::path dir = data_dir / dir_name;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {};
  // Renamed aside first, so a crash mid-removal leaves no half-deleted partition behind under
  // its own name. A topic name near the limit would make "<dir>.deleted" too long for a file
  // name (255 bytes): such a directory goes aside under a hash of its name.
  constexpr std::size_t max_file_name = 255;
  constexpr std::string_view suffix = ".deleted";
  const std::string aside_name =
      dir_name.size() + suffix.size() <= max_file_name
          ? dir_name + std::string(suffix)
          : fmt::format("{:016x}{}", std::hash<std::string>{}(dir_name), suffix);
  fs::path aside = data_dir / aside_name;
  fs::remove_all(aside, ec);
  fs::rename(dir, aside, ec);
  if (ec) return make_errno_error(ec.value(), "rename " + dir.string() + " to " + aside.string());
  if (auto r = sync_directory(data_dir); !r) return r;
  fs::remove_all(aside, ec);
  if (ec) return make_errno_error(ec.value(), "remove " + aside.string());
  return {};
}

namespace {

// The topic and partition a directory name "<topic>-<n>" stands for, if it is one.
std::optional<partition_id> parse_partition_dir(const std::string& name) {
  const auto dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  std::int32_t p = 0;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(name.data() + dash + 1, end, p);
  if (ec != std::errc() || ptr != end || p < 0) return std::nullopt;
  partition_id id{name.substr(0, dash), p};
  if (id.dir_name() != name) return std::nullopt;  // "t-01"
  return id;
}

// Whether `name` is a file a partition log or the broker writes in a partition directory: the
// checkpoint, the producer snapshot, a segment's files (20-digit base offset), or the temp file
// of one of them.
bool is_partition_file(std::string_view name) {
  if (name.ends_with(".tmp")) name.remove_suffix(4);
  if (name == checkpoint_file_name || name == "periodic.checkpoint" ||
      name == producer_snapshot_file_name) {
    return true;
  }
  for (const std::string_view ext : {".log", ".index", ".timeindex", ".recycle", ".deleted"}) {
    if (segment::parse_file_name(std::string(name), ext)) return true;
  }
  return false;
}

// What a directory that looks like a partition's holds: only the files a partition writes
// (`only_partition_files`), and among them its checkpoint or a segment (`a_log`).
struct dir_contents {
  bool only_partition_files = true;
  bool a_log = false;
  std::string foreign;  // the first entry that is not a partition's file
};

dir_contents look_into(const fs::path& dir) {
  dir_contents c;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !is_partition_file(name)) {
      c.only_partition_files = false;
      c.foreign = name;
      return c;
    }
    if (name == checkpoint_file_name || segment::parse_file_name(name, ".log")) c.a_log = true;
  }
  if (ec) c.only_partition_files = false;
  return c;
}

// Whether a directory that looks like a partition's may be removed as one: only what Sluice
// writes is in it, never an operator's files under a name that happens to look like one (they
// are left, with a warning).
bool removable_as_partition(const fs::path& dir, bool needs_a_log) {
  const dir_contents c = look_into(dir);
  if (!c.only_partition_files) {
    spdlog::warn(
        "leaving {}: it looks like a partition directory but holds {}, which Sluice "
        "does not write",
        dir.string(), c.foreign.empty() ? "what could not be listed" : c.foreign);
    return false;
  }
  return c.a_log || !needs_a_log;
}

// Whether `name` is what remove_partition_dir moves a partition directory aside to.
bool is_aside_name(const std::string& name) {
  constexpr std::string_view suffix = ".deleted";
  if (!name.ends_with(suffix)) return false;
  const std::string stem = name.substr(0, name.size() - suffix.size());
  if (parse_partition_dir(stem)) return true;
  return stem.size() == 16 && std::all_of(stem.begin(), stem.end(), [](char ch) {
           return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
         });
}

}  // namespace

result<void> remove_deleted_leftovers(const fs::path& data_dir) {
  result<void> first;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_directory() || !is_aside_name(name)) continue;
    // Half removed by the deletion a crash interrupted: its checkpoint may be gone already.
    if (!removable_as_partition(entry.path(), false)) continue;
    spdlog::info("removing {} left by an interrupted topic deletion", name);
    std::error_code removing;
    fs::remove_all(entry.path(), removing);
    // Past one that will not go: the others are tried too.
    if (removing && first) {
      first = make_errno_error(removing.value(), "remove " + entry.path().string());
    }
  }
  if (ec) return make_errno_error(ec.value(), "list " + data_dir.string());
  return first;
}

result<void> remove_unowned_partition_dirs(const fs::path& data_dir, const topic_map& topics) {
  result<void> first;  // past one that will not go, the others are tried too
  std::vector<std::string> unowned;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_directory()) continue;
    const auto id = parse_partition_dir(name);
    if (!id) continue;
    auto it = topics.find(id->topic);
    if (it != topics.end() && id->partition < it->second.record.partitions) continue;
    // Only an unowned directory costs a look inside: start-up does no I/O per partition here.
    if (removable_as_partition(entry.path(), true)) unowned.push_back(name);
  }
  if (ec) return make_errno_error(ec.value(), "list " + data_dir.string());
  for (const auto& name : unowned) {
    spdlog::warn("removing {}: no topic owns it (left by a topic deletion a crash interrupted)",
                 name);
    if (auto r = remove_partition_dir(data_dir, name); !r && first) first = r;
  }
  return first;
}

}  // namespace sluice
