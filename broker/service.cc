#include "broker/service.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "broker/controller.h"
#include "broker/disk_space_monitor.h"
#include "broker/errc.h"
#include "broker/shard.h"

namespace sluice {

namespace asio = boost::asio;

service::service(const broker_config& config, topic_registry& topics,
                 std::vector<std::unique_ptr<shard>>& shards, controller& ctl,
                 disk_space_monitor& disk)
    : config_(config), topics_(topics), shards_(shards), controller_(ctl), disk_(disk) {}

const broker_record& service::identity() const {
  return controller_.identity();
}

error service::missing_partition(std::string_view topic, std::int32_t index) const {
  auto snapshot = topics_.snapshot();
  auto it = snapshot->find(topic);
  if (it == snapshot->end()) {
    return make_error(broker_errc::unknown_topic, fmt::format("topic '{}' does not exist", topic));
  }
  if (index >= 0 && index < it->second.record.partitions) {
    // Registered, and its shard has not opened it yet: the topic's creation opens its
    // partitions one at a time per shard (controller::for_each_partition), or undoes itself.
    return make_error(
        broker_errc::partition_opening,
        fmt::format("partition {}-{} is not open yet: its topic is being created", topic, index));
  }
  return make_error(broker_errc::unknown_partition,
                    fmt::format("topic '{}' has partitions 0..{}, not {}", topic,
                                it->second.record.partitions - 1, index));
}

template <class T, class F>
void service::on_partition(executor reply, std::string topic, std::int32_t index, handler<T> done,
                           F&& f) {
  if (index < 0) {
    asio::post(reply, [this, done = std::move(done), topic, index] {
      done(result<T>(boost::system::in_place_error, missing_partition(topic, index)));
    });
    return;
  }
  shard& s = *shards_[shard_of(topic, index, shards_.size())];
  asio::post(s.context(), [this, &s, reply = std::move(reply), topic = std::move(topic), index,
                           done = std::move(done), f = std::forward<F>(f)]() mutable {
    partition* p = s.find(topic, index);
    if (p == nullptr) {
      const error* unopened = s.unopened(topic, index);
      asio::post(reply, [done = std::move(done),
                         e = unopened != nullptr ? *unopened : missing_partition(topic, index)] {
        done(result<T>(boost::system::in_place_error, e));
      });
      return;
    }
    f(*p, [reply, done = std::move(done)](result<T> r) mutable {
      asio::post(reply,
                 [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    });
  });
}

void service::produce(executor reply, std::string topic, std::int32_t partition, held_bytes batch,
                      handler<produce_outcome> done) {
  if (auto space = disk_.check_appendable(batch.size()); !space) {
    asio::post(reply, [done = std::move(done), e = space.error()] { done(e); });
    return;
  }
  on_partition<produce_outcome>(
      std::move(reply), std::move(topic), partition, std::move(done),
      [batch = std::move(batch)](sluice::partition& p, auto respond) mutable {
        p.produce(std::move(batch), std::move(respond));
      });
}

void service::read(executor reply, std::string topic, std::int32_t partition, offset from,
                   std::size_t max_bytes, handler<read_outcome> done) {
  on_partition<read_outcome>(
      std::move(reply), std::move(topic), partition, std::move(done),
      [from, max_bytes](sluice::partition& p, auto respond) { respond(p.read(from, max_bytes)); });
}

void service::watch(std::string topic, std::int32_t partition, std::shared_ptr<data_waiter> w,
                    offset from) {
  if (partition < 0) return w->gone();
  shard& s = *shards_[shard_of(topic, partition, shards_.size())];
  asio::post(s.context(), [&s, topic = std::move(topic), partition, w = std::move(w), from] {
    if (auto* p = s.find(topic, partition)) {
      p->add_waiter(w, from);
    } else {
      w->gone();  // deleted since the fetch read it
    }
  });
}

void service::list_offset(executor reply, std::string topic, std::int32_t partition,
                          std::int64_t spec, handler<partition::listed_offset> done) {
  on_partition<partition::listed_offset>(
      std::move(reply), std::move(topic), partition, std::move(done),
      [spec](sluice::partition& p, auto respond) { respond(p.offset_for(spec)); });
}

void service::describe_partition(executor reply, std::string topic, std::int32_t partition,
                                 handler<partition_status> done) {
  on_partition<partition_status>(std::move(reply), std::move(topic), partition, std::move(done),
                                 [](sluice::partition& p, auto respond) { respond(p.status()); });
}

namespace {

// Wraps a controller handler so the caller's handler runs on `reply`.
template <class T>
std::function<void(result<T>)> posted_to(asio::any_io_executor reply,
                                         std::function<void(result<T>)> done) {
  return [reply = std::move(reply), done = std::move(done)](result<T> r) {
    asio::post(reply, [done, r = std::move(r)]() mutable { done(std::move(r)); });
  };
}

}  // namespace

void service::create_topic(executor reply, std::string name, std::int32_t partitions,
                           config_overrides configs, bool validate_only, handler<void> done) {
  controller_.create_topic(std::move(name), partitions, std::move(configs), validate_only,
                           posted_to(std::move(reply), std::move(done)));
}

void service::delete_topic(executor reply, std::string name, handler<void> done) {
  controller_.delete_topic(std::move(name), posted_to(std::move(reply), std::move(done)));
}

void service::alter_topic_config(executor reply, std::string name, config_overrides set,
                                 std::vector<std::string> reset, bool validate_only,
                                 handler<void> done) {
  controller_.alter_topic_config(std::move(name), std::move(set), std::move(reset), validate_only,
                                 posted_to(std::move(reply), std::move(done)));
}

void service::init_producer_id(executor reply, handler<std::int64_t> done) {
  controller_.init_producer_id(posted_to(std::move(reply), std::move(done)));
}

}  // namespace sluice
