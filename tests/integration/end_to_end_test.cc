// End to end: a real sluiced driven only through the producer, consumer and admin libraries.
// A million records across partitions, replay by offset and timestamp, broker restarts (SIGTERM
// and SIGKILL) and dropped connections mid-stream with nothing acknowledged lost and nothing
// stored twice, retention deleting segments under a reading consumer, topic configs altered on
// a live topic, and the latency of a long-polling consumer on an idle broker.
//
// Records carry their own identity: record `seq` has key key_of(seq) and value value_of(seq)
// (the sequence number and a hash of it), so every record read back is checked byte for byte
// and a record stored twice is recognised.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin.h"
#include "consumer/consumer.h"
#include "producer/producer.h"
#include "protocol/wire_errc.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::broker_process;
using testing::eventually;
using testing::tcp_proxy;
using testing::temp_dir;
using clock_type = std::chrono::steady_clock;

// ---- records that say who they are ------------------------------------------------------------

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

// 1009 keys: murmur2 spreads them over every partition.
std::string key_of(std::uint64_t seq) {
  return fmt::format("key-{}", seq % 1009);
}

std::string value_of(std::uint64_t seq) {
  return fmt::format("{:010}-{:016x}", seq, mix(seq));
}

// The sequence number a value_of() value starts with; nullopt for anything else.
std::optional<std::uint64_t> seq_of(const std::optional<std::string_view>& value) {
  if (!value || value->size() < 10) return std::nullopt;
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + 10, seq);
  if (ec != std::errc() || end != value->data() + 10) return std::nullopt;
  return seq;
}

producer_record record_of(const std::string& topic, std::uint64_t seq) {
  return {.topic = topic, .key = key_of(seq), .value = value_of(seq)};
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// ---- outcomes of sends ------------------------------------------------------------------------

// Where each record seq = 0 .. capacity-1 was stored, as its callback said. Callbacks write
// their own slot, so none waits for another; read the slots after flush() (every callback ran).
class delivery_log {
 public:
  struct slot {
    std::int32_t partition = -1;
    std::int64_t offset = -1;  // -1: not acknowledged
  };

  explicit delivery_log(std::size_t capacity) : slots_(capacity) {}

  producer::callback track(std::size_t seq) {
    return [this, seq](result<record_metadata> r) {
      if (r) {
        slots_[seq] = {r->partition, r->offset};
        acked_.fetch_add(1, std::memory_order_release);
      } else {
        fail(seq, r.error());
      }
    };
  }
  // A send() that returned an error: the record was never queued.
  void fail(std::size_t seq, const error& e) {
    std::lock_guard lock(mu_);
    errors_.emplace(seq, e.message());
    failed_.fetch_add(1, std::memory_order_release);
  }

  [[nodiscard]] std::size_t capacity() const { return slots_.size(); }
  [[nodiscard]] std::size_t acked() const { return acked_.load(std::memory_order_acquire); }
  [[nodiscard]] std::size_t failed() const { return failed_.load(std::memory_order_acquire); }
  [[nodiscard]] std::size_t outcomes() const { return acked() + failed(); }
  [[nodiscard]] const slot& at(std::size_t seq) const { return slots_[seq]; }
  // "record <seq>: <error>" for the first failed record; empty when none failed.
  [[nodiscard]] std::string first_error() const {
    std::lock_guard lock(mu_);
    if (errors_.empty()) return {};
    return fmt::format("record {}: {}", errors_.begin()->first, errors_.begin()->second);
  }

 private:
  std::vector<slot> slots_;
  std::atomic<std::size_t> acked_{0};
  std::atomic<std::size_t> failed_{0};
  mutable std::mutex mu_;
  std::map<std::size_t, std::string> errors_;
};

// Sends records seq = 0, 1, ... from a thread until stop() or the log's capacity, with at most
// `window` records awaiting their outcome (the producer keeps sending while the broker is away:
// the window is what it buffers then).
class background_sender {
 public:
  background_sender(producer& p, std::string topic, delivery_log& log, std::size_t window = 5000)
      : producer_(p), topic_(std::move(topic)), log_(log), window_(window) {
    thread_ = std::thread([this] { run(); });
  }
  ~background_sender() { stop(); }
  background_sender(const background_sender&) = delete;
  background_sender& operator=(const background_sender&) = delete;

  // Stops sending and joins; the caller then flushes the producer.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::size_t sent() const { return sent_; }
  [[nodiscard]] bool done() const { return done_; }

 private:
  void run() {
    for (std::size_t seq = 0; seq < log_.capacity() && !stop_; ++seq) {
      while (seq - log_.outcomes() >= window_ && !stop_) std::this_thread::sleep_for(1ms);
      if (auto queued = producer_.send(record_of(topic_, seq), log_.track(seq)); !queued) {
        log_.fail(seq, queued.error());
      }
      sent_ = seq + 1;
    }
    done_ = true;
  }

  producer& producer_;
  std::string topic_;
  delivery_log& log_;
  std::size_t window_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<std::size_t> sent_{0};
  std::thread thread_;
};

// True when the process has exited but was not reaped yet (a zombie): the broker crashed.
bool has_exited(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string pid_text, name, state;
  stat >> pid_text >> name >> state;  // the name has no spaces: "(sluiced)"
  return !stat || state == "Z" || state == "X";
}

// Waits until `more` records beyond those acknowledged now are acknowledged; fails the test
// naming `what` when that takes longer than `timeout`, or at once when the broker died.
void await_more_acks(const delivery_log& log, const background_sender& sender,
                     const broker_process& broker, std::size_t more, const std::string& what,
                     std::chrono::milliseconds timeout = 120s) {
  const auto target = log.acked() + more;
  bool died = false;
  const bool reached = eventually(
      [&] {
        died = has_exited(broker.pid());
        return log.acked() >= target || sender.done() || died;
      },
      timeout);
  INFO(fmt::format("{}: {} of {} acknowledged, {} sent, {} failed {}; broker log:\n{}", what,
                   log.acked(), target, sender.sent(), log.failed(), log.first_error(),
                   broker.log_text()));
  REQUIRE_MESSAGE(!died, "the broker died (a crash: see the kernel log)");
  REQUIRE(reached);
  REQUIRE_MESSAGE(!sender.done(), "the sender ran out of records");
}

// ---- reading everything back ------------------------------------------------------------------

// Reads every partition of `topic` from its log start to its end (as the broker reports them
// now) through a consumer, calling on_record for each record in offset order per partition.
// Fails the test on a poll error, a gap, a repeated offset or a stall of 30 s. Returns the
// number of records read.
std::size_t consume_all(const std::string& address, const std::string& topic,
                        const std::function<void(const consumer_record&)>& on_record) {
  auto a = admin::create({.brokers = address}).value();
  auto described = a->describe_topic(topic);
  REQUIRE_OK(described);
  std::vector<topic_partition> tps;
  std::map<std::int32_t, std::int64_t> next;
  std::map<std::int32_t, std::int64_t> end;
  std::int64_t remaining = 0;
  for (const auto& p : described->partitions) {
    REQUIRE_MESSAGE(!p.problem, p.problem->message());
    tps.push_back({topic, p.partition});
    next[p.partition] = p.log_start_offset;
    end[p.partition] = p.high_watermark;
    remaining += p.high_watermark - p.log_start_offset;
  }
  auto c = consumer::create({.brokers = address,
                             .auto_offset_reset = consumer_config::offset_reset::none,
                             .max_poll_records = 5000})
               .value();
  REQUIRE_OK(c->assign(tps));
  REQUIRE_OK(c->seek_to_beginning({}));
  std::size_t read = 0;
  auto progress = clock_type::now();
  while (remaining > 0) {
    auto records = c->poll(1s);
    REQUIRE_MESSAGE(records.has_value(), records.error().message());
    if (records->empty()) {
      REQUIRE_MESSAGE(clock_type::now() - progress < 30s, "stalled with ", remaining,
                      " records to read");
      continue;
    }
    progress = clock_type::now();
    for (const auto& r : *records) {
      auto& n = next[r.partition];
      if (r.offset != n) {
        REQUIRE_MESSAGE(r.offset == n, "partition ", r.partition, ": offset ", r.offset, " where ",
                        n, " was expected");
      }
      ++n;
      if (r.offset < end[r.partition]) --remaining;
      ++read;
      on_record(r);
    }
  }
  return read;
}

// What a topic holds, seq by seq: checks that every stored record is one of ours, byte for byte,
// and stored once.
class stored_records {
 public:
  explicit stored_records(std::size_t capacity) : where_(capacity) {}

  void add(const consumer_record& r) {
    const auto seq = seq_of(r.value);
    if (!seq || *seq >= where_.size()) {
      FAIL("a record that was never sent at ", r.partition, "@", r.offset, ": ",
           r.value.value_or("(null)"));
    }
    if (r.value != value_of(*seq) || r.key != key_of(*seq)) {
      FAIL("record ", *seq, " at ", r.partition, "@", r.offset, " has the wrong bytes");
    }
    auto& w = where_[*seq];
    if (w.offset >= 0) {
      FAIL("record ", *seq, " is stored twice: at ", w.partition, "@", w.offset, " and at ",
           r.partition, "@", r.offset);
    }
    w = {r.partition, r.offset};
    ++count_;
  }

  // Every record the log says was acknowledged is stored, at the partition and offset its
  // callback reported. Returns how many were acknowledged.
  std::size_t check_acknowledged(const delivery_log& log) const {
    std::size_t acked = 0;
    for (std::size_t seq = 0; seq < log.capacity(); ++seq) {
      const auto& sent = log.at(seq);
      if (sent.offset < 0) continue;
      ++acked;
      const auto& w = where_[seq];
      if (w.partition != sent.partition || w.offset != sent.offset) {
        FAIL("record ", seq, " was acknowledged at ", sent.partition, "@", sent.offset,
             " but is stored at ", w.partition, "@", w.offset, " (-1: missing)");
      }
    }
    return acked;
  }
  [[nodiscard]] std::size_t count() const { return count_; }

 private:
  std::vector<delivery_log::slot> where_;
  std::size_t count_ = 0;
};

// Consumes the whole topic and checks it against what the producer was told: every
// acknowledged record at its offset with its bytes, nothing stored twice, nothing foreign.
void check_topic_against(const std::string& address, const std::string& topic,
                         const delivery_log& log) {
  stored_records stored(log.capacity());
  const auto read = consume_all(address, topic, [&](const consumer_record& r) { stored.add(r); });
  const auto acked = stored.check_acknowledged(log);
  MESSAGE(
      fmt::format("{}: {} acknowledged, {} failed, {} stored", topic, acked, log.failed(), read));
  CHECK(acked == log.acked());
  CHECK(read >= acked);  // records whose outcome was an error may be stored (once)
  CHECK(read <= acked + log.failed());
}

// ---- a broker and an admin client -------------------------------------------------------------

struct e2e_broker {
  temp_dir dir{"sluice-e2e-test"};
  broker_process broker;
  std::unique_ptr<admin> admin_client;

  explicit e2e_broker(std::vector<std::string> extra_args = {})
      : broker({.data_dir = dir.path() / "data", .extra_args = std::move(extra_args), .env = {}}),
        admin_client(admin::create({.brokers = broker.address()}).value()) {}

  void create_topic(const std::string& name, int partitions,
                    std::map<std::string, std::string> configs = {}) {
    REQUIRE_OK(admin_client->create_topic(
        {.name = name, .partitions = partitions, .configs = std::move(configs)}));
  }
  topic_description describe(const std::string& name) {
    auto d = admin_client->describe_topic(name);
    REQUIRE_OK(d);
    return *d;
  }
  std::string config_value(const std::string& topic, const std::string& name) {
    for (const auto& c : describe(topic).configs) {
      if (c.name == name) return c.value;
    }
    FAIL("no config ", name);
    return {};
  }
  // After a restart the broker has a new port: a new admin client follows it.
  void reconnect_admin() { admin_client = admin::create({.brokers = broker.address()}).value(); }
};

producer_config producer_for(const std::string& address) {
  producer_config c;
  c.brokers = address;
  return c;
}

}  // namespace

// ---- 1. scale ---------------------------------------------------------------------------------

TEST_CASE(
    "end to end: a million keyed records over 4 partitions are all stored once, in order, "
    "at their acknowledged offsets") {
  e2e_broker b;
  b.create_topic("scale", 4);  // flush=always: the default
  REQUIRE(b.config_value("scale", "flush") == "always");
  constexpr std::size_t n = 1'000'000;
  delivery_log log(n);

  const auto produce_start = clock_type::now();
  {
    auto p = producer::create(producer_for(b.broker.address())).value();  // acks=1
    for (std::size_t seq = 0; seq < n; ++seq) {
      if (auto queued = p->send(record_of("scale", seq), log.track(seq)); !queued) {
        log.fail(seq, queued.error());
      }
    }
    REQUIRE_OK(p->flush(120s));
  }
  const double produce_s = seconds_since(produce_start);
  REQUIRE_MESSAGE(log.failed() == 0, log.first_error());
  REQUIRE(log.acked() == n);

  // The callbacks' offsets: per partition exactly 0..count-1, increasing in send order.
  std::map<std::int32_t, std::int64_t> next_offset;
  for (std::size_t seq = 0; seq < n; ++seq) {
    const auto& s = log.at(seq);
    auto& next = next_offset[s.partition];
    if (s.offset != next) REQUIRE_MESSAGE(s.offset == next, "record ", seq);
    ++next;
    if (s.partition != partition_for_key(key_of(seq), 4)) {
      REQUIRE(s.partition == partition_for_key(key_of(seq), 4));
    }
  }
  REQUIRE(next_offset.size() == 4);

  const auto consume_start = clock_type::now();
  stored_records stored(n);
  const auto read =
      consume_all(b.broker.address(), "scale", [&](const consumer_record& r) { stored.add(r); });
  const double consume_s = seconds_since(consume_start);
  CHECK(read == n);
  CHECK(stored.count() == n);
  CHECK(stored.check_acknowledged(log) == n);
  for (const auto& p : b.describe("scale").partitions) {
    CHECK(p.high_watermark == next_offset[p.partition]);
  }
  MESSAGE(fmt::format("produced {} records in {:.1f} s ({:.0f}/s), consumed in {:.1f} s ({:.0f}/s)",
                      n, produce_s, static_cast<double>(n) / produce_s, consume_s,
                      static_cast<double>(n) / consume_s));
}

// ---- 2. replay --------------------------------------------------------------------------------

namespace {

constexpr std::int64_t ts_base = 1'700'000'000'000;
// Partition p's record j: timestamp ts_base + 3000 p + 10 j (so one timestamp falls at a
// different offset in each partition), value value_of(p * 1'000'000 + j).
std::int64_t replay_ts(std::int32_t p, std::int64_t j) {
  return ts_base + 3000 * p + 10 * j;
}
std::uint64_t replay_seq(std::int32_t p, std::int64_t j) {
  return static_cast<std::uint64_t>(p) * 1'000'000 + static_cast<std::uint64_t>(j);
}

// Polls until every partition in `from` reached `end`; checks each record is partition p's
// record j at offset j, with its timestamp, starting at from[p].
void check_replay(consumer& c, const std::map<std::int32_t, std::int64_t>& from, std::int64_t end) {
  std::map<std::int32_t, std::int64_t> next = from;
  const auto deadline = clock_type::now() + 60s;
  auto unfinished = [&] {
    return std::any_of(next.begin(), next.end(), [&](const auto& e) { return e.second < end; });
  };
  while (unfinished()) {
    REQUIRE_MESSAGE(clock_type::now() < deadline, "replay stalled");
    auto records = c.poll(500ms);
    REQUIRE_MESSAGE(records.has_value(), records.error().message());
    for (const auto& r : *records) {
      if (!next.contains(r.partition)) FAIL("a record of partition ", r.partition);
      auto& n = next[r.partition];
      if (r.offset != n) {
        FAIL("partition ", r.partition, ": offset ", r.offset, " where ", n, " was expected");
      }
      const auto seq = replay_seq(r.partition, r.offset);
      if (r.value != value_of(seq) || r.key != key_of(seq) ||
          r.timestamp != replay_ts(r.partition, r.offset)) {
        FAIL("partition ", r.partition, " offset ", r.offset, " is not the record sent there");
      }
      ++n;
    }
  }
}

}  // namespace

TEST_CASE(
    "end to end: consumers replay every partition from the middle, by offset and by "
    "timestamp") {
  e2e_broker b;
  b.create_topic("replay", 3, {{"retention.ms", "-1"}});  // the timestamps are from 2023
  constexpr std::int64_t per_partition = 4000;
  {
    auto p = producer::create(producer_for(b.broker.address())).value();
    std::vector<std::future<result<record_metadata>>> acks;
    for (std::int64_t j = 0; j < per_partition; ++j) {
      for (std::int32_t part = 0; part < 3; ++part) {
        const auto seq = replay_seq(part, j);
        acks.push_back(p->send({.topic = "replay",
                                .key = key_of(seq),
                                .value = value_of(seq),
                                .partition = part,
                                .timestamp = replay_ts(part, j)}));
      }
    }
    for (std::size_t i = 0; i < acks.size(); ++i) {
      auto md = acks[i].get();
      REQUIRE_OK(md);
      const auto j = static_cast<std::int64_t>(i / 3);
      if (md->offset != j || md->timestamp != replay_ts(md->partition, j)) {
        REQUIRE(md->offset == j);
        REQUIRE(md->timestamp == replay_ts(md->partition, j));
      }
    }
  }
  const std::vector<topic_partition> all{{"replay", 0}, {"replay", 1}, {"replay", 2}};

  SUBCASE("by offset, a different one per partition") {
    auto c = consumer::create({.brokers = b.broker.address(), .max_poll_records = 300}).value();
    REQUIRE_OK(c->assign(all));
    const std::map<std::int32_t, std::int64_t> from{{0, 1234}, {1, 2001}, {2, 3999}};
    for (const auto& [part, start] : from) REQUIRE_OK(c->seek({"replay", part}, start));
    check_replay(*c, from, per_partition);
    // And again, further back, with the consumer already at the end.
    const std::map<std::int32_t, std::int64_t> again{{0, 7}, {1, 0}, {2, 2500}};
    for (const auto& [part, start] : again) REQUIRE_OK(c->seek({"replay", part}, start));
    check_replay(*c, again, per_partition);
  }

  SUBCASE("by timestamp: each partition from its first record at or after it") {
    auto c = consumer::create({.brokers = b.broker.address(), .max_poll_records = 300}).value();
    REQUIRE_OK(c->assign(all));
    // ts_base + 15000 is record 1500 of partition 0, 1200 of partition 1, 900 of partition 2.
    REQUIRE_OK(c->seek_to_timestamp({}, ts_base + 15'000));
    const std::map<std::int32_t, std::int64_t> from{{0, 1500}, {1, 1200}, {2, 900}};
    for (const auto& [part, expected] : from) {
      CHECK(c->position({"replay", part}).value() == expected);
      CHECK(b.admin_client->list_offset("replay", part, ts_base + 15'000).value() == expected);
    }
    check_replay(*c, from, per_partition);

    // Between two records' timestamps: the later one.
    REQUIRE_OK(c->seek_to_timestamp({{"replay", 1}}, replay_ts(1, 2222) - 3));
    CHECK(c->position({"replay", 1}).value() == 2222);
    check_replay(*c, {{1, 2222}}, per_partition);

    // Before every record: the beginning; after every record: the end.
    REQUIRE_OK(c->seek_to_timestamp({}, ts_base - 1));
    for (const auto& tp : all) CHECK(c->position(tp).value() == 0);
    REQUIRE_OK(c->seek_to_timestamp({}, replay_ts(2, per_partition)));
    for (const auto& tp : all) CHECK(c->position(tp).value() == per_partition);
  }
}

// ---- 3. restarts ------------------------------------------------------------------------------

TEST_CASE(
    "end to end: a broker stopped (SIGTERM) and killed (SIGKILL) mid-stream loses no "
    "acknowledged record and stores none twice") {
  e2e_broker b;
  b.create_topic("restart", 3);
  tcp_proxy proxy(b.broker.port());
  auto config = producer_for(proxy.address());
  config.retry_backoff = 50ms;
  config.request_timeout = 5s;
  config.batch_size = 16 * 1024;  // several batches in flight when the broker goes away
  delivery_log log(2'000'000);    // outlives the producer: its callbacks write here
  auto p = producer::create(config).value();
  background_sender sender(*p, "restart", log);

  // Waits until `more` records beyond what was acknowledged at the call were acknowledged.
  auto restart = [&](const std::string& how) {
    const auto acked_before = log.acked();
    CHECK(sender.sent() > log.outcomes());  // records in flight or buffered
    if (how == "SIGTERM") {
      CHECK(b.broker.stop() == 0);  // a clean shutdown
    } else {
      b.broker.kill();
    }
    proxy.drop_connections();  // the producer retries against a dead port until the restart
    b.broker.start();
    proxy.set_target(b.broker.port());
    MESSAGE(how, " with ", acked_before, " acknowledged, ", sender.sent(), " sent");
  };

  await_more_acks(log, sender, b.broker, 20'000, "before the restarts");
  restart("SIGTERM");
  await_more_acks(log, sender, b.broker, 20'000, "after SIGTERM and a restart");
  restart("SIGKILL");
  await_more_acks(log, sender, b.broker, 20'000, "after SIGKILL and a restart");
  sender.stop();
  REQUIRE_OK(p->flush(180s));
  // Every error was retriable: none may fail within the delivery timeout.
  CHECK_MESSAGE(log.failed() == 0, log.first_error());
  CHECK(p->statistics().retries > 0);
  b.reconnect_admin();
  check_topic_against(b.broker.address(), "restart", log);
}

// ---- 4. dropped connections -------------------------------------------------------------------

TEST_CASE(
    "end to end: idempotent retries after repeatedly dropped connections store every "
    "record exactly once") {
  e2e_broker b;
  b.create_topic("drops", 3);
  tcp_proxy proxy(b.broker.port());
  auto config = producer_for(proxy.address());
  config.retry_backoff = 20ms;
  config.batch_size = 4096;  // many batches in flight when a connection drops
  constexpr std::size_t n = 150'000;
  delivery_log log(n);  // outlives the producer: its callbacks write here
  auto p = producer::create(config).value();
  background_sender sender(*p, "drops", log);
  int drops = 0;
  while (!sender.done()) {
    const auto target = log.acked() + 3000;
    eventually([&] { return log.acked() >= target || sender.done(); }, 60s);
    proxy.drop_connections();
    ++drops;
  }
  REQUIRE_OK(p->flush(120s));
  const auto stats = p->statistics();
  MESSAGE(drops, " dropped connections, ", stats.retries, " batches retried, ", proxy.connections(),
          " connections");
  CHECK(drops >= 10);
  CHECK(stats.retries > 0);
  CHECK_MESSAGE(log.failed() == 0, log.first_error());
  CHECK(log.acked() == n);
  check_topic_against(b.broker.address(), "drops", log);
}

// ---- 5. retention under a reading consumer ----------------------------------------------------

namespace {

// Partition p's record at offset o, ~200 bytes.
std::string retained_value(std::int32_t p, std::int64_t o) {
  auto v = fmt::format("p{}-o{}-", p, o);
  v.append(200 - v.size(), static_cast<char>('a' + mix(static_cast<std::uint64_t>(o)) % 26));
  return v;
}

}  // namespace

TEST_CASE(
    "end to end: retention deletes old segments while a slow consumer reads, which sees "
    "no gap, no corrupt record and no error") {
  e2e_broker b({"--retention-check-interval-ms", "200"});
  b.create_topic("ret", 2, {{"segment.bytes", "65536"}, {"retention.bytes", "262144"}});
  constexpr std::int64_t per_partition = 15'000;  // ~3 MiB per partition: ~50 segments

  auto c = consumer::create({.brokers = b.broker.address(),
                             .auto_offset_reset = consumer_config::offset_reset::earliest,
                             .max_partition_fetch_bytes = 16 * 1024,
                             .max_poll_records = 50,
                             .max_buffered_bytes = 64 * 1024})
               .value();
  REQUIRE_OK(c->assign({{"ret", 0}, {"ret", 1}}));
  REQUIRE_OK(c->seek_to_beginning({}));

  // The producer: both partitions in turn, offset = the record's index in its partition.
  auto pconfig = producer_for(b.broker.address());
  pconfig.codec = compression::none;   // the bytes on disk are what retention counts
  std::atomic<int> produce_errors{0};  // these outlive the producer: its callbacks write here
  std::atomic<int> misplaced{0};
  std::atomic<bool> produced{false};
  auto p = producer::create(pconfig).value();
  std::thread producing([&] {
    for (std::int64_t o = 0; o < per_partition; ++o) {
      for (std::int32_t part = 0; part < 2; ++part) {
        auto queued = p->send({.topic = "ret", .value = retained_value(part, o), .partition = part},
                              [&, o](result<record_metadata> md) {
                                if (!md) ++produce_errors;
                                if (md && md->offset != o) ++misplaced;
                              });
        if (!queued) ++produce_errors;
      }
      if (o % 1000 == 999 && !p->flush(60s)) ++produce_errors;  // paced in rounds
    }
    if (!p->flush(60s)) ++produce_errors;
    produced = true;
  });
  struct join_on_exit {
    std::thread& t;
    ~join_on_exit() { t.join(); }
  } joiner{producing};

  std::map<std::int32_t, std::int64_t> next{{0, 0}, {1, 0}};
  std::int64_t consumed = 0;
  std::int64_t consumed_before_deletion = 0;
  int skips = 0;
  int out_of_range_errors = 0;
  std::int64_t log_start_seen = 0;
  auto log_start_of = [&](std::int32_t part) {
    const auto d = b.describe("ret");
    for (const auto& desc : d.partitions) {
      REQUIRE_MESSAGE(!desc.problem, desc.problem->message());
    }
    return d.partitions.at(static_cast<std::size_t>(part)).log_start_offset;
  };
  auto last_describe = clock_type::now();
  const auto deadline = clock_type::now() + 120s;
  while (!produced || next[0] < per_partition || next[1] < per_partition) {
    REQUIRE_MESSAGE(clock_type::now() < deadline, "consumer at ", next[0], " and ", next[1],
                    " after 120 s");
    auto records = c->poll(100ms);
    if (!records) {
      REQUIRE_MESSAGE(records.error().code == wire::ErrorCode::offset_out_of_range,
                      records.error().message());
      ++out_of_range_errors;
      continue;
    }
    for (const auto& r : *records) {
      auto& n = next[r.partition];
      if (r.offset != n) {
        // Only a reset to the log start may skip records: those retention deleted.
        REQUIRE_MESSAGE(r.offset > n, "partition ", r.partition, " went back from ", n, " to ",
                        r.offset);
        const auto start = log_start_of(r.partition);
        REQUIRE_MESSAGE(r.offset <= start, "partition ", r.partition, ": a gap from ", n, " to ",
                        r.offset, " with the log starting at ", start);
        ++skips;
      }
      if (r.value != retained_value(r.partition, r.offset)) {
        FAIL("partition ", r.partition, " offset ", r.offset, " is not the record sent there");
      }
      n = r.offset + 1;
      ++consumed;
      if (log_start_seen == 0) ++consumed_before_deletion;
    }
    if (clock_type::now() - last_describe > 200ms) {
      log_start_seen = std::max(log_start_of(0), log_start_of(1));
      last_describe = clock_type::now();
    }
    std::this_thread::sleep_for(5ms);  // a slow reader (pacing only)
  }
  CHECK(produce_errors == 0);
  CHECK(misplaced == 0);
  // Retention keeps each partition below retention.bytes plus one segment (once its next
  // check ran after the last append).
  CHECK(eventually(
      [&] {
        const auto now = b.describe("ret");
        return std::all_of(now.partitions.begin(), now.partitions.end(),
                           [](const auto& part) { return part.size_bytes < 262'144 + 65'536; });
      },
      30s));
  const auto d = b.describe("ret");
  for (const auto& part : d.partitions) {
    CHECK(part.log_start_offset > 0);  // retention deleted segments
    CHECK(part.high_watermark == per_partition);
    MESSAGE(fmt::format("partition {}: log start {}, {} segments, {} bytes", part.partition,
                        part.log_start_offset, part.segments, part.size_bytes));
  }
  MESSAGE(consumed, " records consumed (", consumed_before_deletion,
          " before the first deletion was seen), ", skips, " resets past deleted records, ",
          out_of_range_errors, " out-of-range errors");
  CHECK(consumed_before_deletion > 0);  // the consumer was reading when retention began
  CHECK(consumed > 0);

  // The broker is healthy: a new record is stored and read.
  auto md =
      p->send({.topic = "ret", .value = retained_value(0, per_partition), .partition = 0}).get();
  REQUIRE_OK(md);
  CHECK(md->offset == per_partition);
  auto tail = c->poll(10s);
  const auto until = clock_type::now() + 30s;
  while (tail && tail->empty() && clock_type::now() < until) tail = c->poll(1s);
  REQUIRE_OK(tail);
  REQUIRE(tail->size() == 1);
  CHECK(tail->front().offset == per_partition);
  CHECK(tail->front().value == retained_value(0, per_partition));
}

// ---- 6. live config changes -------------------------------------------------------------------

TEST_CASE(
    "end to end: segment.bytes, retention.bytes and retention.ms altered on a live topic "
    "take effect") {
  e2e_broker b({"--retention-check-interval-ms", "200"});
  b.create_topic("live", 1);
  auto pconfig = producer_for(b.broker.address());
  pconfig.codec = compression::none;
  auto p = producer::create(pconfig).value();
  std::int64_t next = 0;
  auto produce_kib = [&](int kib) {  // 1 KiB records, in order
    for (int i = 0; i < kib; ++i) {
      auto queued = p->send({.topic = "live", .value = retained_value(0, next++).append(824, 'x')},
                            [](result<record_metadata> md) { CHECK(md.has_value()); });
      REQUIRE_OK(queued);
    }
    REQUIRE_OK(p->flush(60s));
  };
  auto partition = [&] { return b.describe("live").partitions.at(0); };

  produce_kib(256);
  CHECK(partition().segments == 1);  // segment.bytes defaults to 1 GiB

  REQUIRE_OK(b.admin_client->alter_topic_config("live", {{"segment.bytes", "65536"}}));
  CHECK(b.config_value("live", "segment.bytes") == "65536");
  produce_kib(512);
  const auto rolled = partition();
  MESSAGE("after segment.bytes=65536: ", rolled.segments, " segments, ", rolled.size_bytes,
          " bytes");
  CHECK(rolled.segments >= 8);  // the 256 KiB segment, then 512 KiB in 64 KiB segments
  CHECK(rolled.log_start_offset == 0);

  REQUIRE_OK(b.admin_client->alter_topic_config("live", {{"retention.bytes", "196608"}}));
  CHECK(eventually([&] { return partition().size_bytes < 196'608 + 65'536; }, 30s));
  const auto trimmed = partition();
  MESSAGE("after retention.bytes=196608: ", trimmed.segments, " segments, ", trimmed.size_bytes,
          " bytes, log start ", trimmed.log_start_offset);
  CHECK(trimmed.log_start_offset > 0);
  CHECK(trimmed.high_watermark == next);

  // retention.ms against each closed segment's newest record: 1 s after the last write every
  // closed segment is due, the active one stays.
  REQUIRE_OK(
      b.admin_client->alter_topic_config("live", {{"retention.ms", "1000"}}, {"retention.bytes"}));
  CHECK(eventually([&] { return partition().segments == 1; }, 30s));
  const auto expired = partition();
  CHECK(expired.log_start_offset > trimmed.log_start_offset);
  CHECK(expired.high_watermark == next);

  // What is left is readable from the new log start.
  const auto read = consume_all(b.broker.address(), "live", [](const consumer_record& r) {
    if (r.value->substr(0, 200) != retained_value(0, r.offset)) FAIL("bad record at ", r.offset);
  });
  CHECK(static_cast<std::int64_t>(read) == next - expired.log_start_offset);
}

TEST_CASE(
    "end to end: flush switched from always to interval:100 and back while producing "
    "fails nothing and stores everything once") {
  e2e_broker b;
  b.create_topic("flushy", 3);
  delivery_log log(2'000'000);  // outlives the producer: its callbacks write here
  auto p = producer::create(producer_for(b.broker.address())).value();
  background_sender sender(*p, "flushy", log);
  await_more_acks(log, sender, b.broker, 10'000, "with flush=always");
  REQUIRE_OK(b.admin_client->alter_topic_config("flushy", {{"flush", "interval:100"}}));
  CHECK(b.config_value("flushy", "flush") == "interval:100");
  await_more_acks(log, sender, b.broker, 10'000, "with flush=interval:100");
  REQUIRE_OK(b.admin_client->alter_topic_config("flushy", {{"flush", "always"}}));
  CHECK(b.config_value("flushy", "flush") == "always");
  await_more_acks(log, sender, b.broker, 10'000, "with flush=always again");
  REQUIRE_OK(b.admin_client->alter_topic_config("flushy", {}, {"flush"}));  // back to the default
  await_more_acks(log, sender, b.broker, 5'000, "with the default flush");
  sender.stop();
  REQUIRE_OK(p->flush(60s));
  CHECK_MESSAGE(log.failed() == 0, log.first_error());
  check_topic_against(b.broker.address(), "flushy", log);
}

// ---- idle broker ------------------------------------------------------------------------------

TEST_CASE(
    "end to end: a long-polling consumer of an idle broker gets empty polls, then a new "
    "record promptly") {
  e2e_broker b;
  b.create_topic("idle", 1);
  std::atomic<std::int64_t> acked_at_ns{0};  // these outlive the producer: its callback uses them
  clock_type::time_point sent_at;
  auto p = producer::create(producer_for(b.broker.address())).value();
  REQUIRE_OK(p->send({.topic = "idle", .value = "warm-up"}).get());  // metadata cached
  auto c = consumer::create({.brokers = b.broker.address(), .fetch_max_wait = 500ms}).value();
  REQUIRE_OK(c->assign({{"idle", 0}}));
  REQUIRE_OK(c->seek_to_end({}));
  REQUIRE(c->position({"idle", 0}).value() == 1);

  // Several long polls (fetch_max_wait 500 ms) come back empty, without errors.
  const auto idle_start = clock_type::now();
  int empty_polls = 0;
  while (clock_type::now() - idle_start < 1500ms) {
    auto r = c->poll(300ms);
    REQUIRE_OK(r);
    CHECK(r->empty());
    ++empty_polls;
  }
  CHECK(empty_polls >= 3);

  sent_at = clock_type::now();
  REQUIRE_OK(p->send({.topic = "idle", .value = "wake up"}, [&](result<record_metadata> md) {
    CHECK(md.has_value());
    acked_at_ns = (clock_type::now() - sent_at).count();
  }));
  std::vector<consumer_record> got;
  while (got.empty() && clock_type::now() - sent_at < 10s) {
    auto r = c->poll(2s);
    REQUIRE_OK(r);
    got = std::move(*r);
  }
  const auto latency = clock_type::now() - sent_at;
  REQUIRE(got.size() == 1);
  CHECK(got[0].value == "wake up");
  CHECK(got[0].offset == 1);
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  MESSAGE(fmt::format("send -> poll returned the record: {:.1f} ms (producer ack after {:.1f} ms)",
                      ms(latency), ms(clock_type::duration(acked_at_ns.load()))));
  CHECK(latency < 4s);  // a durable produce on a busy disk included
}

TEST_CASE(
    "end to end: a consumer long-polling partitions on both shards gets each new record "
    "promptly, whichever partition it lands on") {
  // A fetch waits on every partition it reads; the one that advances is read on its own shard
  // (broker/handlers/fetch.cc). max_wait is long, so a wake that went missing shows as a wait.
  // The same with shards that busy-poll before they sleep (--busy-poll-us).
  std::vector<std::string> args{"--shards", "2"};
  std::string busy_poll_logged = "busy_poll_us=0";
  SUBCASE("shards that sleep when idle") {}
  SUBCASE("shards that busy-poll") {
    args.insert(args.end(), {"--busy-poll-us", "200"});
    busy_poll_logged = "busy_poll_us=200";
  }
  e2e_broker b(args);
  CHECK(b.broker.log_text().find(busy_poll_logged) != std::string::npos);
  b.create_topic("spread", 4);
  auto p = producer::create(producer_for(b.broker.address())).value();
  auto c = consumer::create({.brokers = b.broker.address(), .fetch_max_wait = 5000ms}).value();
  REQUIRE_OK(c->assign({{"spread", 0}, {"spread", 1}, {"spread", 2}, {"spread", 3}}));
  REQUIRE_OK(c->seek_to_end({}));
  REQUIRE_OK(c->poll(100ms));  // the first long polls are waiting now

  auto poll_until = [&](std::size_t want, clock_type::time_point since) {
    std::vector<consumer_record> got;
    while (got.size() < want && clock_type::now() - since < 10s) {
      auto r = c->poll(200ms);
      REQUIRE_OK(r);
      for (auto& rec : *r) got.push_back(std::move(rec));
    }
    return got;
  };
  for (std::int32_t part : {3, 0, 2, 1}) {
    const auto sent_at = clock_type::now();
    const std::string value = fmt::format("to {}", part);
    REQUIRE_OK(p->send({.topic = "spread", .value = value, .partition = part}).get());
    auto got = poll_until(1, sent_at);
    REQUIRE(got.size() == 1);
    CHECK(got[0].partition == part);
    CHECK(got[0].value == value);
    CHECK(clock_type::now() - sent_at < 4s);  // under max_wait: no missed wake-up
  }
  // Records on all four at once: the first answer may carry one partition's, the next
  // fetches the rest, none waiting out max_wait.
  const auto sent_at = clock_type::now();
  for (std::int32_t part = 0; part < 4; ++part) {
    REQUIRE_OK(p->send({.topic = "spread", .value = "all", .partition = part},
                       [](const result<record_metadata>&) {}));
  }
  REQUIRE_OK(p->flush(10s));
  auto got = poll_until(4, sent_at);
  REQUIRE(got.size() == 4);
  std::set<std::int32_t> partitions;
  for (const auto& rec : got) partitions.insert(rec.partition);
  CHECK(partitions.size() == 4);
  CHECK(clock_type::now() - sent_at < 4s);
  c.reset();
  p.reset();
  CHECK(b.broker.stop() == 0);  // busy-polling shards stop as the others do
}

}  // namespace sluice
