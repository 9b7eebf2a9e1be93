// The whole producer against the in-process fake broker: retries, duplicates, sequence resets,
// timeouts and refusals, each made to happen on purpose.

#include "producer/producer.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"
#include "tests/producer/fake_broker.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using test::fake_broker;

producer_config config_for(const fake_broker& b) {
  producer_config c;
  c.brokers = b.address();
  c.linger = 1ms;
  c.retry_backoff = 10ms;
  return c;
}

producer_record record(std::string topic, std::string value,
                       std::optional<std::int32_t> partition = std::nullopt) {
  producer_record r;
  r.topic = std::move(topic);
  r.value = std::move(value);
  r.partition = partition;
  return r;
}

// Outcomes by record index; counts callbacks to prove each runs once.
class outcomes {
 public:
  producer::callback track(int i) {
    return [this, i](result<record_metadata> r) {
      std::lock_guard lock(mu_);
      ++calls_[i];
      got_.insert_or_assign(i, std::move(r));
      cv_.notify_all();
    };
  }
  void await(std::size_t n) {
    std::unique_lock lock(mu_);
    REQUIRE(cv_.wait_for(lock, 30s, [&] { return got_.size() >= n; }));
  }
  std::map<int, result<record_metadata>> got() {
    std::lock_guard lock(mu_);
    for (const auto& call : calls_) {  // no structured binding: INFO captures it (clang 14)
      const int i = call.first;
      INFO("record ", i);
      CHECK(call.second == 1);
    }
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, result<record_metadata>> got_;
  std::map<int, int> calls_;
};

// Record i's value: its number, padded with dots to `pad` bytes.
std::string numbered(int i, std::size_t pad = 0) {
  auto v = std::to_string(i);
  if (v.size() < pad) v.append(pad - v.size(), '.');
  return v;
}

// Sends values "0".."n-1" to one partition.
void send_numbered(producer& p, outcomes& o, const std::string& topic, int first, int n,
                   std::int32_t partition = 0, std::size_t pad = 0) {
  for (int i = first; i < first + n; ++i) {
    REQUIRE(p.send(record(topic, numbered(i, pad), partition), o.track(i)).has_value());
  }
}

// The partition holds exactly values first..first+n-1 (minus `missing`), in that order, each at
// the offset its callback reported.
void check_partition(fake_broker& b, const std::string& topic, std::int32_t partition,
                     const std::map<int, result<record_metadata>>& got,
                     const std::set<int>& missing = {}, std::size_t pad = 0) {
  std::vector<int> expected;
  for (const auto& [i, r] : got) {
    if (!missing.contains(i)) expected.push_back(i);
  }
  const auto stored = b.records(topic, partition);
  REQUIRE(stored.size() == expected.size());
  for (std::size_t k = 0; k < stored.size(); ++k) {
    const int i = expected[k];
    INFO("stored #", k, " value ", stored[k].value);
    CHECK(stored[k].value == numbered(i, pad));
    REQUIRE(got.at(i).has_value());
    CHECK(got.at(i)->offset == stored[k].offset);
  }
}

TEST_CASE("records of a partition are stored in send order, each callback with its offset") {
  fake_broker b;
  b.create_topic("t", 2);
  auto p = producer::create(config_for(b)).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 500);
  REQUIRE(p->flush(30s).has_value());
  check_partition(b, "t", 0, o.got());
}

TEST_CASE("a batch stored but never answered is retried and answered with its original offset") {
  fake_broker b;
  b.create_topic("t", 1);
  auto p = producer::create(config_for(b)).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 5);
  REQUIRE(p->flush(30s).has_value());
  b.drop_after_store(1);  // the next batch is stored, then the connection drops
  send_numbered(*p, o, "t", 5, 5);
  REQUIRE(p->flush(30s).has_value());
  send_numbered(*p, o, "t", 10, 5);
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  check_partition(b, "t", 0, got);
  CHECK(got.at(5)->offset == 5);
  CHECK(p->statistics().retries >= 1);
}

TEST_CASE("repeated dropped connections with many batches in flight store everything once") {
  fake_broker b;
  b.create_topic("t", 3);
  auto c = config_for(b);
  c.batch_size = 512;  // many small batches, pipelined
  auto p = producer::create(c).value();
  outcomes o;
  for (int round = 0; round < 5; ++round) {
    b.drop_after_store(2);
    send_numbered(*p, o, "t", round * 400, 400, round % 3);
  }
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  for (int part = 0; part < 3; ++part) {
    std::map<int, result<record_metadata>> of_part;
    for (const auto& [i, r] : got) {
      if ((i / 400) % 3 == part) of_part.insert_or_assign(i, r);
    }
    check_partition(b, "t", part, of_part);
  }
}

TEST_CASE("a batch whose answer is lost is still within the broker's remembered when retried") {
  // The broker answers pipelined requests as each completes, so one held up (here: its answer
  // lost) does not stop the ones behind it. Had the producer kept sending that partition's
  // batches until the request timed out, more than idempotent_window_batches would be stored
  // after it: the broker, which remembers that many per producer, would refuse the retry as
  // out of order, and the producer would store it again under a new producer id.
  fake_broker b;
  b.create_topic("t", 1);
  auto c = config_for(b);
  c.batch_size = 256;  // many small batches, pipelined
  c.request_timeout = 500ms;
  auto p = producer::create(c).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 5);
  REQUIRE(p->flush(30s).has_value());
  b.lose_answers(1);
  send_numbered(*p, o, "t", 5, 400);
  REQUIRE(p->flush(30s).has_value());
  check_partition(b, "t", 0, o.got());
  CHECK(p->statistics().retries >= 1);
  CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
}

TEST_CASE("a retriable refusal is retried after the backoff and the order is kept") {
  fake_broker b;
  b.create_topic("t", 1);
  std::atomic<int> refusals{3};
  b.set_produce_fault([&](const std::string&, std::int32_t, const batch_header&) {
    return refusals.fetch_sub(1) > 0 ? std::optional(wire::ErrorCode::not_enough_space)
                                     : std::nullopt;
  });
  auto c = config_for(b);
  c.batch_size = 256;
  auto p = producer::create(c).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 300);
  REQUIRE(p->flush(30s).has_value());
  check_partition(b, "t", 0, o.got());
  CHECK(p->statistics().retries >= 3);
}

TEST_CASE("a batch refused for good fails with the broker's error; the rest is stored in order") {
  fake_broker b;
  b.create_topic("t", 1);
  std::atomic<int> batches{0};
  b.set_produce_fault([&](const std::string&, std::int32_t, const batch_header&) {
    return ++batches == 4 ? std::optional(wire::ErrorCode::corrupt_batch) : std::nullopt;
  });
  auto c = config_for(b);
  c.batch_size = 256;
  auto p = producer::create(c).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 300);
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  std::set<int> failed;
  for (const auto& [i, r] : got) {
    if (r) continue;
    CHECK(r.error().code == wire::ErrorCode::corrupt_batch);
    CHECK(r.error().detail == "injected fault");
    failed.insert(i);
  }
  CHECK_FALSE(failed.empty());
  CHECK(*failed.rbegin() - *failed.begin() + 1 == static_cast<int>(failed.size()));  // one batch
  check_partition(b, "t", 0, got, failed);
}

// ---- batches above the broker's max.message.bytes ---------------------------------------------

// The records that failed, each checked to have failed with `code`.
std::set<int> failed_with(const std::map<int, result<record_metadata>>& got,
                          boost::system::error_code code) {
  std::set<int> failed;
  for (const auto& entry : got) {  // no structured binding: INFO captures it (clang 14)
    const int i = entry.first;
    const auto& r = entry.second;
    if (r) continue;
    INFO("record ", i, ": ", r.error().message());
    CHECK(r.error().code == code);
    failed.insert(i);
  }
  return failed;
}

// sluiced answers storage_error when the fdatasync of a written batch fails: the batch may still
// be in the log after a restart. Its sequence numbers must not go to the next batch, which the
// broker would take for a duplicate of it and acknowledge without storing.
TEST_CASE("a batch failed with storage_error keeps its sequence numbers: the next is stored") {
  fake_broker b;
  b.create_topic("t", 1);
  std::atomic<int> batches{0};
  b.set_stored_fault([&](const std::string&, std::int32_t, const batch_header&) {
    return ++batches == 4 ? std::optional(wire::ErrorCode::storage_error) : std::nullopt;
  });
  auto c = config_for(b);
  c.batch_size = 256;
  c.max_in_flight = 1;  // nothing in flight behind the failed batch: all it had could go back
  auto p = producer::create(c).value();
  outcomes o;
  constexpr int n = 300;
  send_numbered(*p, o, "t", 0, n, 0, 8);  // equal records, so equal batches
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  const auto failed = failed_with(got, wire::make_error_code(wire::ErrorCode::storage_error));
  CHECK_FALSE(failed.empty());
  // Every record is stored once, in order (the failed batch too: its outcome was unknown), each
  // acknowledged one at the offset its callback gave.
  const auto stored = b.records("t", 0);
  REQUIRE(stored.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    INFO("record ", i);
    CHECK(stored[static_cast<std::size_t>(i)].value == numbered(i, 8));
    if (got.at(i)) CHECK(got.at(i)->offset == stored[static_cast<std::size_t>(i)].offset);
  }
}

TEST_CASE("a batch refused as too large is split; only the record too large on its own fails") {
  for (const bool idempotence : {true, false}) {
    CAPTURE(idempotence);
    fake_broker b;
    b.create_topic("t", 1);
    b.set_max_batch_bytes(1000);
    auto c = config_for(b);
    c.idempotence = idempotence;
    c.codec = compression::none;
    c.linger = 10s;  // one batch: flush() sends it
    auto p = producer::create(c).value();
    outcomes o;
    send_numbered(*p, o, "t", 0, 30);
    REQUIRE(p->send(record("t", std::string(2000, 'x'), 0), o.track(30)).has_value());
    send_numbered(*p, o, "t", 31, 30);
    REQUIRE(p->flush(30s).has_value());
    const auto got = o.got();
    CHECK(failed_with(got, wire::ErrorCode::message_too_large) == std::set<int>{30});
    CHECK(got.at(30).error().detail.find("exceeds max.message.bytes 1000") != std::string::npos);
    check_partition(b, "t", 0, got, {30});
    // The parts and the batch after the refused record met no sequence gap: no reset.
    CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
    CHECK(b.producer_ids_given() == (idempotence ? 1 : 0));
    CHECK(p->statistics().records_failed == 1);
    CHECK(p->statistics().records_sent == 60);
  }
}

TEST_CASE("a batch too large only because of its many small records is split until all fit") {
  for (const bool idempotence : {true, false}) {
    CAPTURE(idempotence);
    fake_broker b;
    b.create_topic("t", 1);
    b.set_max_batch_bytes(1000);
    auto c = config_for(b);
    c.idempotence = idempotence;
    c.linger = 10s;
    auto p = producer::create(c).value();  // zstd: the parts are compressed too
    outcomes o;
    // Distinct 64-byte values (zstd cannot squeeze 400 of them below 1000 bytes).
    std::mt19937_64 random(42);
    std::vector<std::string> values;
    for (int i = 0; i < 400; ++i) {
      values.push_back(fmt::format("{}:{:016x}{:016x}{:016x}", i, random(), random(), random()));
      REQUIRE(p->send(record("t", values.back(), 0), o.track(i)).has_value());
    }
    REQUIRE(p->flush(30s).has_value());
    const auto got = o.got();
    CHECK(failed_with(got, wire::ErrorCode::message_too_large).empty());
    const auto stored = b.records("t", 0);
    REQUIRE(stored.size() == 400);
    for (int i = 0; i < 400; ++i) {
      CHECK(stored[i].value == values[i]);
      CHECK(got.at(i)->offset == i);
    }
    CHECK(b.refusals(wire::ErrorCode::message_too_large) >= 3);  // split more than once
    CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
  }
}

// Makes the broker refuse the first batch once (retriable), so that batches pile up behind it;
// once it is stored, the next two batches go pipelined: the first too large, the second not.
struct pipelined_refusal {
  fake_broker b;
  producer_config c;
  std::atomic<bool> refused_once{false};
  static constexpr std::size_t pad = 100;  // 14 records make a batch above 1000 bytes, 6 do not

  pipelined_refusal() {
    b.create_topic("t", 1);
    b.set_max_batch_bytes(1000);
    b.set_produce_fault([this](const std::string&, std::int32_t, const batch_header&) {
      return refused_once.exchange(true) ? std::nullopt
                                         : std::optional(wire::ErrorCode::not_enough_space);
    });
    c = config_for(b);
    c.codec = compression::none;
    c.batch_size = 2000;
    c.retry_backoff = 1s;  // records 1..20 must be sent within it, on a busy machine too
  }

  // Record 0, then, while it waits for its retry, records 1..14 (a full batch, too large) and
  // 15..20 (a batch that fits).
  void send(producer& p, outcomes& o) {
    send_numbered(p, o, "t", 0, 1, 0, pad);
    while (!refused_once) std::this_thread::sleep_for(1ms);
    send_numbered(p, o, "t", 1, 20, 0, pad);
    REQUIRE(p.flush(30s).has_value());
  }
};

TEST_CASE("a batch refused as too large goes again ahead of the later batch sent beside it") {
  pipelined_refusal f;
  auto p = producer::create(f.c).value();
  outcomes o;
  f.send(*p, o);
  const auto got = o.got();
  CHECK(failed_with(got, wire::ErrorCode::message_too_large).empty());
  check_partition(f.b, "t", 0, got, {}, f.pad);
  CHECK(f.b.refusals(wire::ErrorCode::message_too_large) == 1);
  CHECK(f.b.refusals(wire::ErrorCode::out_of_order_sequence) >= 1);  // the later one, waiting
  CHECK(f.b.producer_ids_given() == 1);
}

TEST_CASE("a split batch fails rather than land after a later batch the broker stored first") {
  pipelined_refusal f;
  f.b.set_too_large_leaves_gap(true);  // the later batch is stored though the refused one is not
  auto p = producer::create(f.c).value();
  outcomes o;
  f.send(*p, o);
  send_numbered(*p, o, "t", 21, 1, 0, f.pad);
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  const auto failed = failed_with(got, wire::ErrorCode::message_too_large);
  REQUIRE_FALSE(failed.empty());
  CHECK(*failed.begin() == 1);
  CHECK(*failed.rbegin() - *failed.begin() + 1 == static_cast<int>(failed.size()));  // one batch
  CHECK(got.at(1).error().detail.find("stored first") != std::string::npos);
  check_partition(f.b, "t", 0, got, failed, f.pad);  // the rest once, in order
}

TEST_CASE("the parts of a split batch fail with timed_out after the batch's delivery_timeout") {
  fake_broker b;
  b.create_topic("t", 1);
  b.set_max_batch_bytes(1000);
  // Whatever fits is refused for a while: the parts wait for retries until the timeout.
  b.set_produce_fault([](const std::string&, std::int32_t, const batch_header& h) {
    return h.size_bytes() <= 1000 ? std::optional(wire::ErrorCode::not_enough_space) : std::nullopt;
  });
  auto c = config_for(b);
  c.codec = compression::none;
  c.linger = 10ms;
  c.request_timeout = 200ms;
  c.delivery_timeout = 600ms;
  auto p = producer::create(c).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 30, 0, 100);
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  REQUIRE(got.size() == 30);
  CHECK(failed_with(got, client_errc::timed_out).size() == 30);
  INFO(got.at(0).error().detail);
  CHECK(got.at(0).error().detail.find("not enough space") != std::string::npos);
  CHECK(b.refusals(wire::ErrorCode::message_too_large) >= 1);
  CHECK(b.records("t", 0).empty());
}

// ---- requests above the broker's request size limit (--max-request-bytes) --------------------

// sluiced refuses such a frame unread and closes the connection; the producer hears of it as
// connection_lost with the limit in the detail, or, when the close cuts its write short, as a
// network error saying nothing of it (the fake's unanswered refusals). Retrying would cost the
// connection each time, until delivery_timeout.
constexpr std::uint32_t broker_request_limit = 16 << 10;

producer_config config_for_request_limit(const fake_broker& b, bool idempotence) {
  auto c = config_for(b);
  c.idempotence = idempotence;
  c.codec = compression::none;  // the records keep their size
  c.request_timeout = 5s;
  c.delivery_timeout = 20s;  // a retry loop would show as a late timed_out
  return c;
}

// Records 0-299 of `pad` bytes into partition 0 of "t", in one batch with linger 10 s, but
// record 150 is 20 KiB: too large for broker_request_limit on its own. Flushes, then checks that
// only record 150 failed, with message_too_large naming the limit; returns every outcome.
constexpr std::size_t request_limit_test_pad = 200;

std::map<int, result<record_metadata>> send_around_a_record_above_the_limit(producer& p) {
  outcomes o;
  send_numbered(p, o, "t", 0, 150, 0, request_limit_test_pad);
  REQUIRE(p.send(record("t", std::string(20 << 10, 'x'), 0), o.track(150)).has_value());
  send_numbered(p, o, "t", 151, 149, 0, request_limit_test_pad);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(p.flush(30s).has_value());
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  auto got = o.got();
  CHECK(failed_with(got, wire::ErrorCode::message_too_large) == std::set<int>{150});
  INFO(got.at(150).error().message());
  CHECK(got.at(150).error().detail.find("limit of 16384 bytes") != std::string::npos);
  return got;
}

TEST_CASE("a record too large for the broker's request limit fails at once, naming the limit") {
  for (const bool idempotence : {true, false}) {
    for (const int unanswered : {0, 1}) {
      CAPTURE(idempotence);
      CAPTURE(unanswered);
      fake_broker b;
      b.create_topic("t", 1);
      b.set_max_request_bytes(broker_request_limit, unanswered);
      auto p = producer::create(config_for_request_limit(b, idempotence)).value();
      const auto start = std::chrono::steady_clock::now();
      const auto md = p->send(record("t", std::string(20 << 10, 'x'))).get();  // < max_request_size
      CHECK(std::chrono::steady_clock::now() - start < 10s);
      REQUIRE_FALSE(md.has_value());
      INFO(md.error().message());
      CHECK(md.error().code == wire::ErrorCode::message_too_large);
      CHECK(md.error().detail.find("exceeds the broker's limit of 16384 bytes") !=
            std::string::npos);
      CHECK(md.error().detail.find("--max-request-bytes") != std::string::npos);
      CHECK(md.error().detail.find("(1 record)") != std::string::npos);
      // Its sequence numbers were taken back: the next record is stored, with no reset.
      auto next = p->send(record("t", "next")).get();
      REQUIRE(next.has_value());
      CHECK(next->offset == 0);
      CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
      CHECK(b.producer_ids_given() == (idempotence ? 1 : 0));
      CHECK(b.frames_refused() == 1 + unanswered);  // not sent once the limit was known
    }
  }
}

TEST_CASE("a batch above the broker's request limit is split; only a record too large fails") {
  for (const bool idempotence : {true, false}) {
    CAPTURE(idempotence);
    fake_broker b;
    b.create_topic("t", 1);
    b.set_max_request_bytes(broker_request_limit, 1);
    auto c = config_for_request_limit(b, idempotence);
    c.batch_size = 1 << 20;
    c.linger = 10s;  // one batch of about 80 KB: flush() sends it
    auto p = producer::create(c).value();
    const auto got = send_around_a_record_above_the_limit(*p);
    check_partition(b, "t", 0, got, {150}, request_limit_test_pad);
    CHECK(b.frames_refused() == 2);  // once the limit was known, no request went above it
    CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
    CHECK(p->statistics().records_failed == 1);
  }
}

TEST_CASE("batches that fit the broker's request limit alone but not together go separately") {
  for (const bool idempotence : {true, false}) {
    CAPTURE(idempotence);
    fake_broker b;
    b.create_topic("t", 4);
    b.set_max_request_bytes(broker_request_limit);
    auto c = config_for_request_limit(b, idempotence);
    c.batch_size = 8 << 10;
    c.linger = 10s;  // four batches of about 6 KB, sent together by flush()
    auto p = producer::create(c).value();
    outcomes o;
    constexpr std::size_t pad = 200;
    for (std::int32_t partition = 0; partition < 4; ++partition) {
      send_numbered(*p, o, "t", partition * 30, 30, partition, pad);
    }
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(p->flush(30s).has_value());
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    const auto got = o.got();
    CHECK(failed_with(got, wire::ErrorCode::message_too_large).empty());
    for (std::int32_t partition = 0; partition < 4; ++partition) {
      std::map<int, result<record_metadata>> of_partition;
      for (int i = partition * 30; i < partition * 30 + 30; ++i) of_partition.emplace(i, got.at(i));
      check_partition(b, "t", partition, of_partition, {}, pad);
    }
    CHECK(b.frames_refused() == 1);
  }
}

// The stored values of a partition, once there are n of them (acks=0 is answered by nothing).
std::vector<std::string> stored_values(fake_broker& b, const std::string& topic, std::size_t n) {
  std::vector<fake_broker::stored_record> stored;
  for (int attempt = 0; attempt < 500; ++attempt) {
    stored = b.records(topic, 0);
    if (stored.size() >= n) break;
    std::this_thread::sleep_for(10ms);
  }
  std::vector<std::string> values;
  for (const auto& r : stored) values.push_back(r.value);
  return values;
}

std::vector<std::string> numbered_values(int first, int n, std::size_t pad,
                                         const std::set<int>& missing) {
  std::vector<std::string> values;
  for (int i = first; i < first + n; ++i) {
    if (!missing.contains(i)) values.push_back(numbered(i, pad));
  }
  return values;
}

// With the limit known from the handshake, no request ever goes above it: acks=0 included,
// whose producer would never hear of a refusal.
TEST_CASE("a broker that tells its request limit is sent no request above it, acks=0 too") {
  for (const int acks : {1, 0}) {
    for (const bool idempotence : {true, false}) {
      if (acks == 0 && idempotence) continue;
      CAPTURE(acks);
      CAPTURE(idempotence);
      fake_broker b;
      b.create_topic("t", 1);
      b.set_max_request_bytes(broker_request_limit);
      b.set_advertise_request_limit(true);
      auto c = config_for_request_limit(b, idempotence);
      c.acks = acks;
      c.batch_size = 1 << 20;
      c.linger = 10s;  // one batch of about 80 KB: flush() sends it
      auto p = producer::create(c).value();
      (void)send_around_a_record_above_the_limit(*p);
      CHECK(stored_values(b, "t", 299) == numbered_values(0, 300, request_limit_test_pad, {150}));
      CHECK(b.frames_refused() == 0);
      CHECK(p->statistics().records_failed == 1);
    }
  }
}

// Ends the producer's one connection, as a broker restart, and waits until the producer has
// seen it end (it closes its side only then).
void end_the_only_connection(fake_broker& b) {
  b.end_open_connections();
  for (int attempt = 0; attempt < 3000 && b.connections_ended() < 1; ++attempt) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(b.connections_ended() == 1);
}

// A request planned on what the last connection said, and found above the limit the next
// connection says (a broker restarted with a lower --max-request-bytes), is not sent: its
// batches are planned again within the new limit.
TEST_CASE("a request planned above a limit learnt on reconnecting is planned again, not sent") {
  for (const bool idempotence : {true, false}) {
    CAPTURE(idempotence);
    fake_broker b;
    b.create_topic("t", 1);
    b.set_advertise_request_limit(true);
    auto c = config_for_request_limit(b, idempotence);
    c.batch_size = 1 << 20;
    c.linger = 10s;
    auto p = producer::create(c).value();
    outcomes o;
    constexpr std::size_t pad = 200;
    send_numbered(*p, o, "t", 0, 1, 0, pad);
    REQUIRE(p->flush(30s).has_value());  // connected, and the broker's default limit learnt
    b.set_max_request_bytes(broker_request_limit);
    end_the_only_connection(b);
    send_numbered(*p, o, "t", 1, 299, 0, pad);
    REQUIRE(p->flush(30s).has_value());
    const auto got = o.got();
    CHECK(failed_with(got, wire::ErrorCode::message_too_large).empty());
    check_partition(b, "t", 0, got, {}, pad);
    CHECK(b.frames_refused() == 0);
    CHECK(b.connections_accepted() == 2);
    CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
  }
}

// Several requests of one partition wait for a new connection, which tells another limit (here
// one they all fit): each is taken back and planned again, in order. Without idempotence nothing
// would refuse a batch stored out of order. (The race this order once lost, a batch planned
// while the first request was taken back going ahead of the others still waiting, needs the
// partition's window to have room while the requests in flight are at their limit; sender::unsend
// says why it wakes the sender rather than running it.)
TEST_CASE("requests taken back when the limit changes keep their partition's order") {
  fake_broker b;
  b.create_topic("t", 1);
  b.set_advertise_request_limit(true);
  auto c = config_for_request_limit(b, false);
  c.batch_size = 4096;  // many batches of one partition, up to max_in_flight of them in flight
  c.linger = 10s;
  auto p = producer::create(c).value();
  outcomes o;
  constexpr std::size_t pad = 200;
  send_numbered(*p, o, "t", 0, 1, 0, pad);
  REQUIRE(p->flush(30s).has_value());  // connected, and the broker's default limit learnt
  b.set_max_request_bytes(1 << 20);
  end_the_only_connection(b);
  send_numbered(*p, o, "t", 1, 299, 0, pad);
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  CHECK(failed_with(got, wire::ErrorCode::message_too_large).empty());
  check_partition(b, "t", 0, got, {}, pad);
  CHECK(b.connections_accepted() == 2);
}

// A batch sent within the limit the broker told then may have been stored (here it was, its
// answer lost). Told a lower limit on reconnecting, the producer can neither send it whole nor
// split it (its parts would reuse sequences the broker may hold): it fails, keeping its
// sequences, as a batch of unknown fate, and the next record follows it.
TEST_CASE("a batch that may be stored is not split when a lower request limit is told later") {
  fake_broker b;
  b.create_topic("t", 1);
  b.set_advertise_request_limit(true);
  auto c = config_for_request_limit(b, true);
  c.batch_size = 1 << 20;
  c.linger = 10s;
  c.request_timeout = 1s;
  auto p = producer::create(c).value();
  outcomes o;
  constexpr std::size_t pad = 200;
  b.lose_answers(1, broker_request_limit);  // stored, its answer lost, then the lower limit
  send_numbered(*p, o, "t", 0, 300, 0, pad);
  REQUIRE(p->flush(30s).has_value());
  const auto got = o.got();
  REQUIRE(got.size() == 300);
  REQUIRE(b.records("t", 0).size() == 300);
  CHECK(failed_with(got, wire::ErrorCode::message_too_large).size() == 300);
  INFO(got.at(0).error().message());
  CHECK(b.frames_refused() == 0);
  auto next = p->send(record("t", "next")).get();
  REQUIRE(next.has_value());
  CHECK(next->offset == 300);  // after the stored batch, which is there once
  CHECK(b.records("t", 0).size() == 301);
  CHECK(b.refusals(wire::ErrorCode::out_of_order_sequence) == 0);
}

TEST_CASE("a broker without the producer's sequences makes the partition start over") {
  fake_broker b;
  b.create_topic("t", 1);
  auto p = producer::create(config_for(b)).value();
  outcomes o;
  send_numbered(*p, o, "t", 0, 10);
  REQUIRE(p->flush(30s).has_value());
  b.forget_producers();  // the next batch (sequence 10) is refused: out_of_order_sequence
  send_numbered(*p, o, "t", 10, 10);
  REQUIRE(p->flush(30s).has_value());
  check_partition(b, "t", 0, o.got());
  CHECK(b.producer_ids_given() == 2);  // the reset took a new producer id
}

TEST_CASE("a silent broker: records fail with timed_out after delivery_timeout, naming why") {
  fake_broker b;
  b.create_topic("t", 1);
  auto c = config_for(b);
  c.request_timeout = 100ms;
  c.delivery_timeout = 400ms;
  auto p = producer::create(c).value();
  b.set_silent(true);
  auto md = p->send(record("t", "x")).get();
  REQUIRE_FALSE(md.has_value());
  CHECK(md.error().code == client_errc::timed_out);
  CHECK(md.error().detail.find("delivery_timeout") != std::string::npos);
  CHECK(md.error().detail.find("last error") != std::string::npos);
  CHECK(p->statistics().records_failed == 1);
}

TEST_CASE("after a delivery timeout, later records of the partition are still stored") {
  fake_broker b;
  b.create_topic("t", 1);
  auto c = config_for(b);
  c.request_timeout = 100ms;
  c.delivery_timeout = 1s;  // also the time "kept" has, reconnecting included, on a busy machine
  auto p = producer::create(c).value();
  b.set_silent(true);
  auto lost = p->send(record("t", "lost")).get();
  REQUIRE_FALSE(lost.has_value());
  b.set_silent(false);
  auto md = p->send(record("t", "kept")).get();
  REQUIRE(md.has_value());
  const auto stored = b.records("t", 0);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().value == "kept");
}

TEST_CASE("a request timeout replaces the connection, so a half-open one is not used forever") {
  fake_broker b;
  b.create_topic("t", 1);
  auto c = config_for(b);
  c.request_timeout = 1s;  // a busy machine answering late would replace a connection too
  c.delivery_timeout = 10s;
  auto p = producer::create(c).value();
  REQUIRE(p->send(record("t", "before")).get().has_value());
  REQUIRE(b.connections_accepted() == 1);
  // The broker still accepts connections, but the one in use never answers again: retrying
  // on it would fail the record only at delivery_timeout.
  b.freeze_open_connections();
  auto md = p->send(record("t", "after")).get();
  REQUIRE(md.has_value());
  CHECK(md->offset == 1);
  CHECK(b.connections_accepted() == 2);
  const auto stored = b.records("t", 0);
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].value == "after");
}

TEST_CASE("InitProducerId refused for good fails every record with that error") {
  fake_broker b;
  b.create_topic("t", 1);
  b.set_init_producer_id_error(wire::ErrorCode::unsupported_request);
  auto p = producer::create(config_for(b)).value();
  auto md = p->send(record("t", "x")).get();
  REQUIRE_FALSE(md.has_value());
  CHECK(md.error().code == wire::ErrorCode::unsupported_request);
  CHECK(md.error().detail.find("InitProducerId") != std::string::npos);
}

TEST_CASE("InitProducerId refused for a while is retried") {
  fake_broker b;
  b.create_topic("t", 1);
  b.set_init_producer_id_error(wire::ErrorCode::broker_shutting_down);
  auto p = producer::create(config_for(b)).value();
  auto fut = p->send(record("t", "x"));
  CHECK(fut.wait_for(50ms) == std::future_status::timeout);
  b.set_init_producer_id_error(wire::ErrorCode::none);
  auto md = fut.get();
  REQUIRE(md.has_value());
  CHECK(md->offset == 0);
}

TEST_CASE("unknown topic and out-of-range partition fail through the callback") {
  fake_broker b;
  b.create_topic("t", 2);
  auto p = producer::create(config_for(b)).value();
  auto unknown = p->send(record("nope", "x")).get();
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == wire::ErrorCode::unknown_topic);
  auto out_of_range = p->send(record("t", "x", 2)).get();
  REQUIRE_FALSE(out_of_range.has_value());
  CHECK(out_of_range.error().code == wire::ErrorCode::unknown_partition);
}

TEST_CASE("partitions added to a topic come into use after metadata_max_age") {
  fake_broker b;
  b.create_topic("t", 2);
  auto c = config_for(b);
  c.metadata_max_age = 50ms;
  auto p = producer::create(c).value();
  auto before = p->send(record("t", "x", 3)).get();
  REQUIRE_FALSE(before.has_value());
  CHECK(before.error().code == wire::ErrorCode::unknown_partition);
  b.create_topic("t", 4);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  result<record_metadata> md = before;
  while (!md && std::chrono::steady_clock::now() < deadline) {
    md = p->send(record("t", "x", 3)).get();  // the count refreshes in the background
  }
  REQUIRE(md.has_value());
  CHECK(md->partition == 3);
}

TEST_CASE("close fails what is still pending with client_closed, each callback once") {
  fake_broker b;
  b.create_topic("t", 1);
  auto c = config_for(b);
  c.request_timeout = 10s;
  auto p = producer::create(c).value();
  b.set_silent(true);
  outcomes o;
  send_numbered(*p, o, "t", 0, 20);
  p->close(50ms);
  o.await(20);
  for (const auto& [i, r] : o.got()) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == client_errc::client_closed);
  }
  auto late = p->send(record("t", "late"), [](result<record_metadata>) {});
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().code == client_errc::client_closed);
}

TEST_CASE("send() blocks for buffer memory up to max_block, then fails with buffer_full") {
  fake_broker b;
  b.create_topic("t", 1);
  auto c = config_for(b);
  c.max_request_size = 1024;
  c.buffer_memory = 4096;
  c.max_block = 100ms;
  c.request_timeout = 10s;
  auto p = producer::create(c).value();
  b.set_silent(true);
  result<void> r;
  int sent = 0;
  for (; sent < 100 && r; ++sent) r = p->send(record("t", std::string(500, 'x')), nullptr);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::buffer_full);
  CHECK(sent > 1);
  CHECK(p->statistics().bytes_buffered <= 4096);
  p->close(0ms);
}

TEST_CASE("a callback may send; such a send never blocks") {
  fake_broker b;
  b.create_topic("t", 1);
  auto p = producer::create(config_for(b)).value();
  std::promise<result<record_metadata>> second;
  auto first = p->send(record("t", "first"), [&](result<record_metadata> r) {
    CHECK(r.has_value());  // on the io thread: CHECK, not REQUIRE (which throws)
    auto queued = p->send(record("t", "second"),
                          [&](result<record_metadata> r2) { second.set_value(std::move(r2)); });
    CHECK(queued.has_value());
    CHECK_FALSE(p->flush(1s).has_value());  // would wait for itself: refused
  });
  REQUIRE(first.has_value());
  auto md = second.get_future().get();
  REQUIRE(md.has_value());
  CHECK(md->offset == 1);
}

TEST_CASE("null-key records spread over the partitions batch by batch") {
  fake_broker b;
  b.create_topic("t", 4);
  auto c = config_for(b);
  c.batch_size = 1024;
  auto p = producer::create(c).value();
  outcomes o;
  for (int i = 0; i < 400; ++i) {
    REQUIRE(p->send(record("t", std::string(50, 'v')), o.track(i)).has_value());
  }
  REQUIRE(p->flush(30s).has_value());
  std::set<std::int32_t> used;
  for (const auto& [i, r] : o.got()) {
    REQUIRE(r.has_value());
    used.insert(r->partition);
  }
  CHECK(used.size() == 4);
}

}  // namespace
}  // namespace sluice
