// The controller creates and deletes topics on the shards that own their partitions. A shard's
// clients must not wait behind all of a large topic's partitions, and stopping the controller
// finishes what was asked before the stop.

#include "broker/controller.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <vector>

#include "broker/descriptor_budget.h"
#include "broker/errc.h"
#include "broker/shard.h"
#include "tests/broker/test_dir.h"
#include "tests/result_printer.h"

namespace sluice {
namespace {

namespace asio = boost::asio;

// Two running shards and a controller over a fresh data directory.
struct controller_rig {
  test::scratch_dir data;
  broker_config config;
  std::unique_ptr<topic_registry> topics;
  std::vector<std::unique_ptr<shard>> shards;
  std::unique_ptr<controller> ctl;

  controller_rig() {
    config.data_dir = data.path();
    topics = std::make_unique<topic_registry>(config.data_dir, config.log_defaults);
    for (std::size_t i = 0; i < 2; ++i) {
      shards.push_back(std::make_unique<shard>(i, io::backend_kind::automatic, config.data_dir));
      shards.back()->start();
    }
    ctl = std::make_unique<controller>(config, *topics, shards, broker_record{1, "test", 0});
    ctl->start();
  }
  ~controller_rig() {
    ctl->join();
    for (auto& s : shards) {
      std::promise<void> closed;
      asio::post(s->context(), [&] { s->close_all([&](result<void>) { closed.set_value(); }); });
      closed.get_future().wait();
      s->join();
    }
  }
  controller_rig(const controller_rig&) = delete;
  controller_rig& operator=(const controller_rig&) = delete;

  // Each shard's count of the topic's partitions it has open, taken on the shard's thread.
  [[nodiscard]] std::vector<int> open_on_each_shard(const std::string& topic,
                                                    std::int32_t partitions) {
    std::vector<int> counts(shards.size(), 0);
    for (std::size_t i = 0; i < shards.size(); ++i) {
      std::promise<void> counted;
      asio::post(shards[i]->context(), [&, i] {
        for (std::int32_t p = 0; p < partitions; ++p) {
          if (shards[i]->find(topic, p) != nullptr) ++counts[i];
        }
        counted.set_value();
      });
      counted.get_future().wait();
    }
    return counts;
  }

  // Right after the controller has started the operation it was last asked for (it runs
  // operations in order on its thread), queues a probe on each shard that counts the topic's
  // open partitions when it gets its turn.
  [[nodiscard]] std::vector<std::future<int>> probe_shards_behind_last_operation(
      const std::string& topic, std::int32_t partitions) {
    std::vector<std::future<int>> seen;
    auto probes = std::make_shared<std::vector<std::promise<int>>>(shards.size());
    for (auto& p : *probes) seen.push_back(p.get_future());
    asio::post(ctl->context(), [this, probes, topic, partitions] {
      for (std::size_t i = 0; i < shards.size(); ++i) {
        asio::post(shards[i]->context(), [this, probes, topic, partitions, i] {
          int open = 0;
          for (std::int32_t p = 0; p < partitions; ++p) {
            if (shards[i]->find(topic, p) != nullptr) ++open;
          }
          (*probes)[i].set_value(open);
        });
      }
    });
    return seen;
  }

  [[nodiscard]] result<void> create(const std::string& name, std::int32_t partitions) {
    std::promise<result<void>> done;
    ctl->create_topic(name, partitions, {}, false,
                      [&](result<void> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
};

constexpr std::int32_t many = 200;

// Lowers this process's open-files limit for one test, and puts it back.
class lowered_open_files_limit {
 public:
  explicit lowered_open_files_limit(rlim_t to) {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = to;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  }
  ~lowered_open_files_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  lowered_open_files_limit(const lowered_open_files_limit&) = delete;
  lowered_open_files_limit& operator=(const lowered_open_files_limit&) = delete;

 private:
  rlimit saved_{};
};

}  // namespace

TEST_CASE("a shard serves its other work between the partitions of a topic being created") {
  controller_rig rig;
  std::promise<result<void>> created;
  rig.ctl->create_topic("big", many, {}, false,
                        [&](result<void> r) { created.set_value(std::move(r)); });
  auto seen = rig.probe_shards_behind_last_operation("big", many);
  REQUIRE(created.get_future().get());

  const auto total = rig.open_on_each_shard("big", many);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO("shard " << i << " had " << total[i] << " of the partitions");
    REQUIRE(total[i] > 10);
    // Queued behind every partition's opening, the probe would have found them all open.
    CHECK(seen[i].get() < total[i]);
  }
}

TEST_CASE("a shard serves its other work between the partitions of a topic being deleted") {
  controller_rig rig;
  REQUIRE(rig.create("big", many));
  const auto total = rig.open_on_each_shard("big", many);

  std::promise<result<void>> deleted;
  rig.ctl->delete_topic("big", [&](result<void> r) { deleted.set_value(std::move(r)); });
  auto seen = rig.probe_shards_behind_last_operation("big", many);
  REQUIRE(deleted.get_future().get());

  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO("shard " << i << " had " << total[i] << " of the partitions");
    // Queued behind every partition's closing, the probe would have found none open.
    CHECK(seen[i].get() > 0);
  }
  CHECK(rig.open_on_each_shard("big", many) == std::vector<int>{0, 0});
  CHECK(rig.topics->snapshot()->empty());
}

TEST_CASE("a topic that would use up the open-files limit is refused before anything is made") {
  controller_rig rig;
  auto use = current_descriptor_use();
  REQUIRE(use.has_value());
  // Room for about 100 partitions' descriptors, and the tenth of the limit kept free.
  const lowered_open_files_limit limit(use->open + 330);

  auto refused = rig.create("big", many);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == broker_errc::invalid_partition_count);
  CHECK(refused.error().detail.find("open files") != std::string::npos);
  CHECK(rig.topics->snapshot()->empty());
  CHECK(std::filesystem::is_empty(rig.data.path()));
  CHECK(rig.create("small", 10));
}

TEST_CASE("stopping the controller finishes the operations asked for before the stop") {
  controller_rig rig;
  std::promise<result<void>> created;
  rig.ctl->create_topic("t", 16, {}, false,
                        [&](result<void> r) { created.set_value(std::move(r)); });
  std::promise<result<void>> deleted;
  rig.ctl->delete_topic("t", [&](result<void> r) { deleted.set_value(std::move(r)); });
  rig.ctl->join();

  auto created_answer = created.get_future();
  auto deleted_answer = deleted.get_future();
  REQUIRE(created_answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  REQUIRE(deleted_answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK(created_answer.get());
  CHECK(deleted_answer.get());
  CHECK(rig.open_on_each_shard("t", 16) == std::vector<int>{0, 0});
}

TEST_CASE("a producer id is handed out while a topic creation waits for a shard") {
  controller_rig rig;
  // Shard 0 is kept busy: the creation cannot finish until it is released.
  std::promise<void> release;
  asio::post(rig.shards[0]->context(), [gate = release.get_future().share()] { gate.wait(); });
  std::promise<result<void>> created;
  rig.ctl->create_topic("big", many, {}, false,
                        [&](result<void> r) { created.set_value(std::move(r)); });
  std::promise<result<std::int64_t>> producer_id;
  rig.ctl->init_producer_id([&](result<std::int64_t> r) { producer_id.set_value(std::move(r)); });

  auto id = producer_id.get_future();
  const bool answered = id.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  auto creation = created.get_future();
  CHECK(creation.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  release.set_value();
  REQUIRE(answered);  // not queued behind the creation
  CHECK(id.get().has_value());
  CHECK(creation.get());
}

}  // namespace sluice
