#include "tests/chaos/producer_fleet.h"

#include <fmt/format.h>

#include <stdexcept>

#include "producer/producer.h"

namespace sluice::chaos {

struct producer_fleet::worker {
  std::uint32_t index = 0;
  std::unique_ptr<producer> p;
  std::thread thread;
  std::atomic<int> outstanding{0};
  mutable std::mutex mu;
  std::vector<ack> acks;  // in callback order
};

producer_fleet::producer_fleet(fleet_config config) : config_(std::move(config)) {
  for (const auto& t : config_.topics) total_weight_ += t.weight;
  if (config_.topics.empty() || total_weight_ <= 0) {
    throw std::invalid_argument("producer_fleet: no topics");
  }
  for (int i = 0; i < config_.producers; ++i) {
    auto w = std::make_unique<worker>();
    w->index = static_cast<std::uint32_t>(i);
    producer_config pc{
        .brokers = config_.brokers,
        .client_id = fmt::format("chaos-{}", i),
        .acks = 1,
        .linger = std::chrono::milliseconds(2),
        .batch_size = 16 << 10,
        .max_block = config_.delivery_timeout,
        .idempotence = true,
        .request_timeout = config_.request_timeout,
        .delivery_timeout = config_.delivery_timeout,
        .retry_backoff = std::chrono::milliseconds(50),
    };
    auto p = producer::create(pc);
    if (!p) throw std::runtime_error("producer: " + p.error().message());
    w->p = std::move(*p);
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->thread = std::thread([this, &w = *w] { run(w); });
}

producer_fleet::~producer_fleet() {
  stop(std::chrono::seconds(0));
}

std::pair<std::int32_t, std::int32_t> producer_fleet::target_of(record_id id) const {
  const std::uint64_t h = mix(id.packed() ^ 0x5eed);
  auto pick = static_cast<int>(h % static_cast<std::uint64_t>(total_weight_));
  std::int32_t topic = 0;
  while (pick >= config_.topics[static_cast<std::size_t>(topic)].weight) {
    pick -= config_.topics[static_cast<std::size_t>(topic)].weight;
    ++topic;
  }
  const auto partitions =
      static_cast<std::uint64_t>(config_.topics[static_cast<std::size_t>(topic)].partitions);
  return {topic, static_cast<std::int32_t>((h >> 32U) % partitions)};
}

void producer_fleet::run(worker& w) {
  for (std::uint64_t seq = 0; !stopping_.load(); ++seq) {
    while (w.outstanding.load() >= config_.max_outstanding && !stopping_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (stopping_.load()) break;
    const record_id id{w.index, seq};
    const auto target = target_of(id);  // no structured binding: the lambda captures it
    const std::int32_t topic = target.first;
    const std::int32_t partition = target.second;
    std::string value = value_of(config_.seed, id);
    const std::uint64_t value_hash = hash_of(value);
    w.outstanding.fetch_add(1);
    sent_.fetch_add(1);
    auto r =
        w.p->send({.topic = config_.topics[static_cast<std::size_t>(topic)].name,
                   .key = key_of(id),
                   .value = std::move(value),
                   .partition = partition},
                  [this, &w, id, topic, value_hash](result<record_metadata> md) {
                    if (md) {
                      {
                        std::lock_guard lock(w.mu);
                        w.acks.push_back({.id = id.packed(),
                                          .topic = topic,
                                          .partition = md->partition,
                                          .offset = md->offset,
                                          .value_hash = value_hash});
                      }
                      acked_.fetch_add(1);
                    } else {
                      failed_.fetch_add(1);
                      std::lock_guard lock(errors_mu_);
                      if (errors_.size() < 10) {
                        errors_.push_back(fmt::format("{}: {}", key_of(id), md.error().message()));
                      }
                    }
                    w.outstanding.fetch_sub(1);
                  });
    if (!r) {  // never queued, so never stored
      w.outstanding.fetch_sub(1);
      failed_.fetch_add(1);
      std::lock_guard lock(errors_mu_);
      if (errors_.size() < 10) {
        errors_.push_back(fmt::format("{} not queued: {}", key_of(id), r.error().message()));
      }
    }
  }
}

bool producer_fleet::stop(std::chrono::milliseconds timeout) {
  stopping_ = true;
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool all = true;
  for (auto& w : workers_) {
    if (!w->p) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    if (!w->p->flush(left)) all = false;
    w->p->close(std::chrono::milliseconds(0));  // fails (client_closed) what is still pending
    w->p.reset();
  }
  return all;
}

std::vector<ack> producer_fleet::acks() const {
  std::vector<ack> out;
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mu);
    out.insert(out.end(), w->acks.begin(), w->acks.end());
  }
  return out;
}

std::vector<std::string> producer_fleet::sample_errors() const {
  std::lock_guard lock(errors_mu_);
  return errors_;
}

}  // namespace sluice::chaos
