// The producer against a real sluiced: offsets, partitioning, acks, flush, the broker's refusals,
// and idempotent retries across a paused broker, dropped connections and a broker crash —
// verified by reading the partitions back with raw Fetch requests.

#include "producer/producer.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "protocol/client/broker_address.h"
#include "protocol/client/client_connection.h"
#include "protocol/client/client_errc.h"
#include "protocol/client/io_thread.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "protocol/wire_errc.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;

// Loops over maps name their pair members instead of using structured bindings: doctest's INFO
// and CAPTURE capture them in a lambda, which clang 14 (the sanitizer builds) does not allow.
using testing::broker_process;
using testing::eventually;
using testing::tcp_proxy;
using testing::temp_dir;

// ---- a raw client: topics and reads without the other client libraries -----------------------

struct stored_record {
  std::int64_t offset = -1;
  std::optional<std::string> key;
  std::string value;
};

class raw_client {
 public:
  explicit raw_client(const std::string& address) {
    auto addr = parse_broker_list(address).value().front();
    std::promise<result<std::shared_ptr<client_connection>>> connected;
    client_connection::async_connect(io_.executor(), addr, {},
                                     [&](auto r) { connected.set_value(std::move(r)); });
    conn_ = connected.get_future().get().value();
  }
  ~raw_client() {
    io_.call([this] { conn_->close(); });
  }

  result<response_frame> request(request_builder req) {
    std::promise<result<response_frame>> answered;
    auto shared = std::make_shared<request_builder>(std::move(req));
    io_.post([&, shared] {
      conn_->send(std::move(*shared),
                  [&](result<response_frame> r) { answered.set_value(std::move(r)); });
    });
    return answered.get_future().get();
  }

  void create_topic(const std::string& name, int partitions,
                    const std::map<std::string, std::string>& configs = {}) {
    request_builder req;
    auto& fbb = req.fbb();
    std::vector<flatbuffers::Offset<wire::ConfigEntry>> entries;
    for (const auto& entry : configs) {
      const auto& k = entry.first;
      const auto& v = entry.second;
      entries.push_back(wire::CreateConfigEntry(fbb, fbb.CreateString(k), fbb.CreateString(v)));
    }
    auto topic =
        wire::CreateNewTopic(fbb, fbb.CreateString(name), partitions, fbb.CreateVector(entries));
    req.set_body(wire::CreateCreateTopicsRequest(fbb, fbb.CreateVector(&topic, 1)));
    auto r = request(std::move(req));
    REQUIRE(r.has_value());
    const auto* result = r->body<wire::CreateTopicsResponse>()->topics()->Get(0);
    const std::string message = result->error_message() ? result->error_message()->str() : "";
    INFO(message);
    REQUIRE(result->error() == wire::ErrorCode::none);
  }

  // Every record of the partition, from offset 0 to the high watermark.
  std::vector<stored_record> read_all(const std::string& topic, int partition) {
    std::vector<stored_record> out;
    std::int64_t position = 0;
    for (;;) {
      auto r = request(fetch_request(topic, partition, position));
      REQUIRE(r.has_value());
      const auto* p = r->body<wire::FetchResponse>()->topics()->Get(0)->partitions()->Get(0);
      REQUIRE(p->error() == wire::ErrorCode::none);
      if (position >= p->high_watermark()) return out;
      auto bytes = r->payload_bytes(p->records(), "fetch").value();
      const auto before = position;
      batch_reader reader(bytes);
      while (auto batch = reader.next().value()) {
        auto records = decode_records(*batch).value();
        for (const auto& rec : records.records()) {
          if (rec.offset.value < position) continue;
          out.push_back(
              {rec.offset.value,
               rec.key ? std::optional<std::string>(as_string_view(*rec.key)) : std::nullopt,
               std::string(as_string_view(rec.value.value()))});
          position = rec.offset.value + 1;
        }
      }
      REQUIRE(position > before);
    }
  }

 private:
  static request_builder fetch_request(const std::string& topic, int partition,
                                       std::int64_t offset) {
    request_builder req;
    auto& fbb = req.fbb();
    auto part = wire::CreateFetchPartition(fbb, partition, offset, 1 << 20);
    auto t = wire::CreateFetchTopic(fbb, fbb.CreateString(topic), fbb.CreateVector(&part, 1));
    req.set_body(wire::CreateFetchRequest(fbb, 100, 1, 8 << 20, fbb.CreateVector(&t, 1)));
    return req;
  }

  io_thread io_{"raw-client"};
  std::shared_ptr<client_connection> conn_;
};

// ---- outcomes of sends, gathered from the io thread -------------------------------------------

struct delivery {
  std::string value;
  result<record_metadata> outcome = make_error(client_errc::client_closed, "pending");
};

class deliveries {
 public:
  producer::callback track(std::size_t index) {
    return [this, index](result<record_metadata> r) {
      std::lock_guard lock(mu_);
      got_[index] = std::move(r);
      ++count_;
      cv_.notify_all();
    };
  }
  // Waits until `n` outcomes arrived (or 60 s passed); returns how many did.
  std::size_t await(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 60s, [&] { return count_ >= n; });
    return count_;
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::map<std::size_t, result<record_metadata>> take() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::size_t, result<record_metadata>> got_;
  std::size_t count_ = 0;
};

struct broker_fixture {
  temp_dir dir{"sluice-producer-test"};
  broker_process broker{make_options(dir)};
  raw_client admin{broker.address()};

  static broker_process::options make_options(const temp_dir& d) {
    broker_process::options o;
    o.data_dir = d.path() / "broker";
    return o;
  }
};

producer_config config_for(const std::string& address) {
  producer_config c;
  c.brokers = address;
  c.linger = 2ms;
  return c;
}

std::string value_for(std::size_t i) {
  return fmt::format("value-{:06}", i);
}

// Every acknowledged record is stored exactly once, at the offset its callback gave, and
// nothing else is stored (records whose outcome was an error are not required to be absent).
void check_stored_exactly_once(raw_client& admin, const std::string& topic, int partitions,
                               const std::map<std::size_t, result<record_metadata>>& got) {
  std::map<std::string, std::vector<std::pair<int, std::int64_t>>> where;
  for (int p = 0; p < partitions; ++p) {
    for (const auto& r : admin.read_all(topic, p)) where[r.value].push_back({p, r.offset});
  }
  std::size_t acked = 0;
  for (const auto& entry : got) {
    const auto i = entry.first;
    const auto& outcome = entry.second;
    if (!outcome) continue;
    ++acked;
    const auto& places = where[value_for(i)];
    INFO("record ", i, " acknowledged at ", outcome->partition, "/", outcome->offset);
    REQUIRE(places.size() == 1);
    CHECK(places[0].first == outcome->partition);
    CHECK(places[0].second == outcome->offset);
  }
  for (const auto& entry : where) {
    const auto& value = entry.first;
    const auto& places = entry.second;
    INFO(value);
    CHECK(places.size() == 1);
  }
  CHECK(acked > 0);
}

// ---- the tests --------------------------------------------------------------------------------

TEST_CASE("producer: every record gets its own offset, increasing per partition in send order") {
  broker_fixture f;
  f.admin.create_topic("events", 4);
  auto p = producer::create(config_for(f.broker.address())).value();
  deliveries d;
  constexpr std::size_t n = 3000;
  for (std::size_t i = 0; i < n; ++i) {
    producer_record r;
    r.topic = "events";
    r.value = value_for(i);
    if (i % 3 == 0) r.key = fmt::format("key-{}", i % 50);
    REQUIRE(p->send(std::move(r), d.track(i)).has_value());
  }
  REQUIRE(p->flush(60s).has_value());
  REQUIRE(d.count() == n);
  auto got = d.take();
  std::map<int, std::int64_t> last;
  std::map<int, std::size_t> per_partition;
  for (const auto& entry : got) {
    const auto& outcome = entry.second;
    REQUIRE(outcome.has_value());
    CHECK(outcome->topic == "events");
    const int part = outcome->partition;
    const bool increasing =
        last.count(part) == 0 ? outcome->offset >= 0 : outcome->offset > last[part];
    CHECK(increasing);
    last[part] = outcome->offset;
    ++per_partition[part];
  }
  CHECK(per_partition.size() == 4);
  for (const auto& entry : per_partition) {
    const auto& part = entry.first;
    const auto& count = entry.second;
    CHECK(last[part] == static_cast<std::int64_t>(count) - 1);  // 0..count-1, no holes
  }
  check_stored_exactly_once(f.admin, "events", 4, got);
  CHECK(p->statistics().records_sent == n);
}

TEST_CASE("producer: keyed records land on murmur2's partition, as with Kafka clients (acks=-1)") {
  broker_fixture f;
  f.admin.create_topic("keyed", 6);
  auto c = config_for(f.broker.address());
  c.acks = -1;  // as acks=1 on a single broker
  auto p = producer::create(c).value();
  std::vector<std::pair<std::string, std::future<result<record_metadata>>>> sent;
  for (int i = 0; i < 60; ++i) {
    producer_record r;
    r.topic = "keyed";
    r.key = fmt::format("user-{}", i);
    r.value = "v";
    auto key = *r.key;
    sent.emplace_back(std::move(key), p->send(std::move(r)));
  }
  for (auto& [key, fut] : sent) {
    auto md = fut.get();
    REQUIRE(md.has_value());
    CHECK(md->partition == partition_for_key(key, 6));
  }
  for (int part = 0; part < 6; ++part) {
    for (const auto& r : f.admin.read_all("keyed", part)) {
      REQUIRE(r.key.has_value());
      CHECK(partition_for_key(*r.key, 6) == part);
    }
  }
}

TEST_CASE("producer: acks=0 stores the records and reports offset -1") {
  broker_fixture f;
  f.admin.create_topic("fire", 2);
  auto c = config_for(f.broker.address());
  c.acks = 0;
  c.idempotence = false;
  auto p = producer::create(c).value();
  deliveries d;
  constexpr std::size_t n = 500;
  for (std::size_t i = 0; i < n; ++i) {
    producer_record r;
    r.topic = "fire";
    r.value = value_for(i);
    REQUIRE(p->send(std::move(r), d.track(i)).has_value());
  }
  REQUIRE(p->flush(60s).has_value());
  for (const auto& entry : d.take()) {
    const auto& outcome = entry.second;
    REQUIRE(outcome.has_value());
    CHECK(outcome->offset == -1);
  }
  // Nothing acknowledges the writes: wait until the broker has stored them all.
  std::size_t stored = 0;
  for (int attempt = 0; attempt < 500 && stored < n; ++attempt) {
    stored = f.admin.read_all("fire", 0).size() + f.admin.read_all("fire", 1).size();
    if (stored < n) std::this_thread::sleep_for(20ms);
  }
  CHECK(stored == n);
}

// A broker whose request limit (--max-request-bytes) is 256 KiB.
broker_process::options limited_broker_options(const temp_dir& dir) {
  broker_process::options o;
  o.data_dir = dir.path() / "broker";
  o.extra_args = {"--max-request-bytes", std::to_string(256 << 10)};
  return o;
}

// An acks=0 producer reads no answers, so a request the broker refused would be lost unseen: it
// keeps within the limit the broker told on connecting.
TEST_CASE("producer: acks=0 keeps its requests within the broker's request limit") {
  temp_dir dir{"sluice-producer-test"};
  broker_process broker(limited_broker_options(dir));
  raw_client admin(broker.address());
  admin.create_topic("fire-large", 1);
  auto c = config_for(broker.address());
  c.acks = 0;
  c.idempotence = false;
  c.codec = compression::none;  // the records keep their size
  c.batch_size = 1 << 20;
  c.linger = 10s;  // one batch of about 1 MB, sent by flush()
  auto p = producer::create(c).value();
  deliveries d;
  constexpr std::size_t n = 1000;
  constexpr std::size_t big_index = n;
  for (std::size_t i = 0; i < n; ++i) {
    producer_record r;
    r.topic = "fire-large";
    r.value = value_for(i) + std::string(1000, '.');
    REQUIRE(p->send(std::move(r), d.track(i)).has_value());
    if (i == n / 2) {
      producer_record big;
      big.topic = "fire-large";
      big.value = std::string(300 << 10, 'x');  // under max_request_size (1 MiB), over the broker's
      REQUIRE(p->send(std::move(big), d.track(big_index)).has_value());
    }
  }
  REQUIRE(p->flush(60s).has_value());
  auto got = d.take();
  REQUIRE(got.size() == n + 1);
  const auto& refused = got.at(big_index);
  REQUIRE_FALSE(refused.has_value());
  INFO("the large record: ", refused.error().message());
  CHECK(refused.error().code == wire::make_error_code(wire::ErrorCode::message_too_large));
  for (std::size_t i = 0; i < n; ++i) REQUIRE(got.at(i).has_value());
  std::vector<stored_record> stored;
  for (int attempt = 0; attempt < 500 && stored.size() < n; ++attempt) {
    stored = admin.read_all("fire-large", 0);
    if (stored.size() < n) std::this_thread::sleep_for(20ms);
  }
  // Every record once (in any order: parts of a split batch may land after a later batch).
  std::multiset<std::string> values;
  for (const auto& r : stored) values.insert(r.value);
  std::multiset<std::string> expected;
  for (std::size_t i = 0; i < n; ++i) expected.insert(value_for(i) + std::string(1000, '.'));
  CHECK(values == expected);
}

TEST_CASE("producer: flush sends lingering records at once and returns after every callback") {
  broker_fixture f;
  f.admin.create_topic("slow", 1);
  auto c = config_for(f.broker.address());
  c.linger = 60s;
  c.delivery_timeout = 120s;
  auto p = producer::create(c).value();
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) {
    producer_record r;
    r.topic = "slow";
    r.value = "x";
    REQUIRE(p->send(std::move(r), [&](result<record_metadata> md) {
               CHECK(md.has_value());
               ++done;
             }).has_value());
  }
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(p->flush(30s).has_value());
  CHECK(done == 10);
  CHECK(std::chrono::steady_clock::now() - start < 30s);  // linger was not waited out
}

TEST_CASE("producer: a send to a topic that does not exist fails with unknown_topic") {
  broker_fixture f;
  auto p = producer::create(config_for(f.broker.address())).value();
  producer_record r;
  r.topic = "no-such-topic";
  r.value = "x";
  auto md = p->send(std::move(r)).get();
  REQUIRE_FALSE(md.has_value());
  CHECK(md.error().code == wire::ErrorCode::unknown_topic);
}

TEST_CASE("producer: flush returns after the callbacks of records refused for their partition") {
  broker_fixture f;
  f.admin.create_topic("two", 2);
  auto p = producer::create(config_for(f.broker.address())).value();
  std::atomic<int> failed{0};
  const auto slow_failure = [&](const result<record_metadata>& md) {
    std::this_thread::sleep_for(100ms);  // still running when a flush that did not wait returns
    CHECK_FALSE(md.has_value());
    ++failed;
  };
  producer_record no_partition{.topic = "two", .value = "x", .partition = 99};
  REQUIRE(p->send(no_partition, slow_failure).has_value());
  producer_record no_topic{.topic = "no-such-topic", .value = "x"};
  REQUIRE(p->send(no_topic, slow_failure).has_value());
  REQUIRE(p->flush(30s).has_value());
  CHECK(failed == 2);
}

TEST_CASE("producer: a record above the topic's max.message.bytes fails with message_too_large") {
  broker_fixture f;
  f.admin.create_topic("small", 1, {{"max.message.bytes", "1000"}});
  auto c = config_for(f.broker.address());
  c.codec = compression::none;
  auto p = producer::create(c).value();
  producer_record big;
  big.topic = "small";
  big.value = std::string(5000, 'x');
  auto md = p->send(std::move(big)).get();
  REQUIRE_FALSE(md.has_value());
  CHECK(md.error().code == wire::ErrorCode::message_too_large);
  CHECK_FALSE(md.error().detail.empty());  // the broker's message
  // The refused batch left no gap in the sequence: the next record is stored.
  producer_record small;
  small.topic = "small";
  small.value = "fits";
  auto ok = p->send(std::move(small)).get();
  REQUIRE(ok.has_value());
  CHECK(ok->offset == 0);
}

TEST_CASE("producer: a batch above max.message.bytes is split; only a record too large fails") {
  broker_fixture f;
  constexpr std::size_t n = 500;
  constexpr std::size_t big = 250;
  for (const bool idempotence : {true, false}) {
    CAPTURE(idempotence);
    const std::string topic = idempotence ? "split-idempotent" : "split-plain";
    f.admin.create_topic(topic, 1, {{"max.message.bytes", "4096"}});
    auto c = config_for(f.broker.address());
    c.idempotence = idempotence;
    c.codec = compression::none;  // as sent: the small records alone make about 10 KB
    c.linger = 10s;               // all in one batch, which flush() sends
    c.batch_size = 1 << 20;
    auto p = producer::create(c).value();
    deliveries d;
    for (std::size_t i = 0; i < n; ++i) {
      producer_record r;
      r.topic = topic;
      r.value = i == big ? std::string(8000, 'x') : value_for(i);
      REQUIRE(p->send(std::move(r), d.track(i)).has_value());
    }
    REQUIRE(p->flush(60s).has_value());
    const auto got = d.take();
    REQUIRE(got.size() == n);
    std::int64_t next_offset = 0;
    for (const auto& entry : got) {
      const auto& i = entry.first;
      const auto& outcome = entry.second;
      INFO("record ", i, ": ", outcome ? "" : outcome.error().message());
      if (i == big) {
        REQUIRE_FALSE(outcome.has_value());
        CHECK(outcome.error().code == wire::ErrorCode::message_too_large);
        CHECK(outcome.error().detail.find("max.message.bytes 4096") != std::string::npos);
        continue;
      }
      REQUIRE(outcome.has_value());
      CHECK(outcome->offset == next_offset++);
    }
    // Exactly the small records, once each, in send order.
    const auto stored = f.admin.read_all(topic, 0);
    REQUIRE(stored.size() == n - 1);
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i == big) continue;
      CHECK(stored[k].value == value_for(i));
      CHECK(stored[k].offset == static_cast<std::int64_t>(k));
      ++k;
    }
    CHECK(p->statistics().records_failed == 1);
  }
}

TEST_CASE("producer: a record above max_request_size is refused by send() itself") {
  broker_fixture f;
  f.admin.create_topic("t", 1);
  auto c = config_for(f.broker.address());
  c.max_request_size = 1000;
  c.buffer_memory = 1 << 20;
  auto p = producer::create(c).value();
  producer_record r;
  r.topic = "t";
  r.value = std::string(2000, 'x');
  auto queued = p->send(std::move(r), [](result<record_metadata>) { FAIL("callback ran"); });
  REQUIRE_FALSE(queued.has_value());
  CHECK(queued.error().code == wire::ErrorCode::message_too_large);
}

// Sends `n` records from `first` on, tracked by index.
void send_range(producer& p, deliveries& d, const std::string& topic, std::size_t first,
                std::size_t n) {
  for (std::size_t i = first; i < first + n; ++i) {
    producer_record r;
    r.topic = topic;
    r.value = value_for(i);
    REQUIRE(p.send(std::move(r), d.track(i)).has_value());
  }
}

TEST_CASE("producer: requests timed out while the broker was stopped are stored once") {
  broker_fixture f;
  f.admin.create_topic("paused", 3);
  auto c = config_for(f.broker.address());
  c.request_timeout = 500ms;
  c.delivery_timeout = 60s;
  c.retry_backoff = 50ms;
  auto p = producer::create(c).value();
  deliveries d;
  send_range(*p, d, "paused", 0, 2000);
  REQUIRE(d.await(100) >= 100);
  f.broker.pause();  // SIGSTOP: requests in flight time out and are retried
  send_range(*p, d, "paused", 2000, 2000);
  const bool retried = eventually([&] { return p->statistics().retries > 0; });
  f.broker.resume();
  REQUIRE(retried);
  REQUIRE(p->flush(60s).has_value());
  auto got = d.take();
  REQUIRE(got.size() == 4000);
  for (const auto& entry : got) {
    const auto& i = entry.first;
    const auto& outcome = entry.second;
    INFO(i, ": ", outcome ? "" : outcome.error().message());
    CHECK(outcome.has_value());
  }
  check_stored_exactly_once(f.admin, "paused", 3, got);
}

TEST_CASE("producer: batches cut off by dropped connections are retried and stored once") {
  broker_fixture f;
  f.admin.create_topic("dropped", 3);
  tcp_proxy proxy(f.broker.port());
  auto c = config_for(proxy.address());
  c.retry_backoff = 20ms;
  c.batch_size = 2048;  // many batches in flight when the connection drops
  auto p = producer::create(c).value();
  deliveries d;
  std::size_t sent = 0;
  for (int round = 0; round < 5; ++round) {
    send_range(*p, d, "dropped", sent, 1500);
    sent += 1500;
    d.await(sent - 1000);  // part of this round is still in flight or lingering
    proxy.drop_connections();
  }
  REQUIRE(p->flush(60s).has_value());
  auto got = d.take();
  REQUIRE(got.size() == sent);
  for (const auto& entry : got) {
    const auto& i = entry.first;
    const auto& outcome = entry.second;
    INFO(i, ": ", outcome ? "" : outcome.error().message());
    CHECK(outcome.has_value());
  }
  CHECK(p->statistics().retries > 0);
  check_stored_exactly_once(f.admin, "dropped", 3, got);
}

TEST_CASE("producer: after a broker crash and restart, every acknowledged record is stored once") {
  broker_fixture f;
  f.admin.create_topic("crash", 2);
  tcp_proxy proxy(f.broker.port());
  auto c = config_for(proxy.address());
  c.retry_backoff = 50ms;
  c.request_timeout = 2s;
  c.batch_size = 2048;  // many batches in flight when the broker dies
  auto p = producer::create(c).value();
  deliveries d;
  send_range(*p, d, "crash", 0, 3000);
  d.await(300);
  f.broker.kill();  // SIGKILL mid-stream
  const auto acked_before_kill = d.count();
  WARN(acked_before_kill < 3000);  // else the crash came too late to cut anything off
  proxy.drop_connections();
  send_range(*p, d, "crash", 3000, 1000);
  f.broker.start();  // same data dir, new port
  proxy.set_target(f.broker.port());
  REQUIRE(p->flush(60s).has_value());
  auto got = d.take();
  REQUIRE(got.size() == 4000);
  for (const auto& entry : got) {
    const auto& i = entry.first;
    const auto& outcome = entry.second;
    INFO(i, ": ", outcome ? "" : outcome.error().message());
    CHECK(outcome.has_value());
  }
  CHECK(p->statistics().retries > 0);
  raw_client after(f.broker.address());
  check_stored_exactly_once(after, "crash", 2, got);
}

// The broker tells its request limit (--max-request-bytes) on connecting, so a record too large
// for it fails at once, never sent, and costs no other record. (A producer that learns the limit
// only from a refusal, from a broker that does not tell it, is tested against the fake broker in
// tests/producer.)
TEST_CASE(
    "producer: a record above the broker's request limit fails; no other is lost or doubled") {
  temp_dir dir{"sluice-producer-test"};
  broker_process broker(limited_broker_options(dir));
  raw_client admin(broker.address());
  admin.create_topic("refused", 1);
  auto c = config_for(broker.address());
  c.retry_backoff = 20ms;
  c.batch_size = 2048;          // many requests in flight when the large one is refused
  c.codec = compression::none;  // the large record must stay large
  auto p = producer::create(c).value();
  deliveries d;
  // Rounds of small records with one too large for the broker in the middle of each.
  constexpr std::size_t rounds = 4;
  constexpr std::size_t per_round = 2000;
  constexpr std::size_t big_index = 1'000'000;
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t first = round * per_round;
    send_range(*p, d, "refused", first, per_round / 2);
    producer_record big;
    big.topic = "refused";
    big.value = std::string(300 << 10, 'x');  // under max_request_size (1 MiB), over the broker's
    REQUIRE(p->send(std::move(big), d.track(big_index + round)).has_value());
    send_range(*p, d, "refused", first + per_round / 2, per_round / 2);
    (void)p->flush(60s);
  }
  // The producer goes on after its large records were refused.
  const std::size_t last = rounds * per_round;
  send_range(*p, d, "refused", last, 1);
  REQUIRE(p->flush(60s).has_value());
  auto got = d.take();
  REQUIRE(got.size() == last + 1 + rounds);
  for (std::size_t round = 0; round < rounds; ++round) {
    const auto& refused = got.at(big_index + round);
    REQUIRE_FALSE(refused.has_value());
    // Refused for good: sent, it would cost the connection and every request on it.
    INFO("the large record: ", refused.error().message());
    CHECK(refused.error().code == wire::make_error_code(wire::ErrorCode::message_too_large));
    CHECK(refused.error().detail.find("--max-request-bytes") != std::string::npos);
    got.erase(big_index + round);
    // Records sent before it cannot be held up by it, nor those after it.
    for (std::size_t i = round * per_round; i < (round + 1) * per_round; ++i) {
      INFO(i, ": ", got.at(i) ? "" : got.at(i).error().message());
      CHECK(got.at(i).has_value());
    }
  }
  CHECK(got.at(last).has_value());
  check_stored_exactly_once(admin, "refused", 1, got);
}

TEST_CASE("producer: with no broker reachable, records fail with timed_out naming the cause") {
  temp_dir dir{"sluice-producer-test"};
  broker_process::options o;
  o.data_dir = dir.path() / "broker";
  std::uint16_t dead_port = 0;
  {
    broker_process b(o);
    raw_client admin(b.address());
    admin.create_topic("gone", 1);
    dead_port = b.port();
  }  // stopped: nothing listens on dead_port now
  auto c = config_for(fmt::format("127.0.0.1:{}", dead_port));
  c.max_block = 300ms;
  auto p = producer::create(c).value();
  producer_record r;
  r.topic = "gone";
  r.value = "x";
  auto queued = p->send(std::move(r), [](result<record_metadata>) {});
  REQUIRE_FALSE(queued.has_value());
  CHECK(queued.error().code == client_errc::timed_out);
  CHECK(queued.error().detail.find("gone") != std::string::npos);
  CHECK(queued.error().detail.find("last error") != std::string::npos);
}

}  // namespace
}  // namespace sluice
