// The consumer against a real sluiced: replay from the beginning, from an offset and from a
// timestamp, live records after seeking to the end, positions and lag, offset resets, seeks
// with fetches in flight, a million records, and resuming after dropped connections and a
// broker restart (through a TCP proxy, since a restarted broker gets a new port).
// Test data is produced with raw ProduceRequests, independent of the producer library.

#include "consumer/consumer.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "admin/admin.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/broker_pool.h"
#include "protocol/client/client_connection.h"
#include "protocol/client/client_errc.h"
#include "protocol/client/io_thread.h"
#include "protocol/errc.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/wire_errc.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::broker_process;
using testing::tcp_proxy;
using testing::temp_dir;

// ---- test data ---------------------------------------------------------------------------------

std::string key_at(std::int64_t i) {
  return fmt::format("k{}", i);
}
std::string value_at(std::int64_t i) {
  return fmt::format("value-{}", i);
}
// Record i has timestamp first_timestamp + 10 * i.
constexpr std::int64_t first_timestamp = 1'700'000'000'000;
std::int64_t timestamp_of(std::int64_t i) {
  return first_timestamp + 10 * i;
}

// Records first..first+n-1 (by index, which is also their offset when produced in order into an
// empty partition), each with one header "i" -> index.
byte_buffer batch_at(std::int64_t first, int n, compression codec = compression::zstd) {
  record_batch_builder b({.codec = codec});
  for (std::int64_t i = first; i < first + n; ++i) {
    const auto k = key_at(i);
    const auto v = value_at(i);
    const auto h = std::to_string(i);
    const byte_span hb = as_bytes(h);
    const std::vector<record_header> headers{{"i", byte_buffer(hb.begin(), hb.end())}};
    b.add(timestamp_of(i), as_bytes(k), as_bytes(v), headers);
  }
  return b.build();
}

// ---- a raw producer: ProduceRequests through a broker_pool, pipelined --------------------------

class raw_producer {
 public:
  explicit raw_producer(const std::string& address)
      : pool_(std::make_shared<broker_pool>(io_.executor(), parse_broker_list(address).value(),
                                            client_connection::options{})) {}
  ~raw_producer() {
    io_.call([this] { pool_->close(); });
  }

  // Appends the batches in order (all sent before the first answer is awaited); returns the
  // base offset of each.
  std::vector<std::int64_t> produce(const std::string& topic, std::int32_t partition,
                                    std::vector<byte_buffer> batches) {
    std::vector<std::promise<result<std::int64_t>>> answers(batches.size());
    io_.call([&] {
      for (std::size_t i = 0; i < batches.size(); ++i) {
        pool_->send(request(topic, partition, std::move(batches[i])),
                    [&answer = answers[i]](result<response_frame> r) {
                      answer.set_value(base_offset(std::move(r)));
                    });
      }
    });
    std::vector<std::int64_t> offsets;
    for (auto& a : answers) offsets.push_back(a.get_future().get().value());
    return offsets;
  }

 private:
  static request_builder request(const std::string& topic, std::int32_t partition,
                                 byte_buffer batch) {
    request_builder req;
    const auto range = req.add_payload(std::make_shared<const byte_buffer>(std::move(batch)));
    auto& fbb = req.fbb();
    const std::vector<flatbuffers::Offset<wire::ProducePartition>> parts{
        wire::CreateProducePartition(fbb, partition, &range)};
    const std::vector<flatbuffers::Offset<wire::ProduceTopic>> topics{
        wire::CreateProduceTopicDirect(fbb, topic.c_str(), &parts)};
    req.set_body(wire::CreateProduceRequestDirect(fbb, 1, 30000, &topics));
    return req;
  }

  static result<std::int64_t> base_offset(result<response_frame> r) {
    if (!r) return r.error();
    const auto* p = r->body<wire::ProduceResponse>()->topics()->Get(0)->partitions()->Get(0);
    if (auto e = wire::to_result(p->error(), p->error_message()); !e) return e.error();
    return p->base_offset();
  }

  io_thread io_{"raw-producer"};
  std::shared_ptr<broker_pool> pool_;
};

// ---- consuming -----------------------------------------------------------------------------

// Polls until `n` records arrived (fails the test on an error or after `timeout`).
std::vector<consumer_record> consume(consumer& c, std::size_t n,
                                     std::chrono::milliseconds timeout = 30s) {
  std::vector<consumer_record> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto r = c.poll(100ms);
    REQUIRE_MESSAGE(r.has_value(), r.error().message());
    std::move(r->begin(), r->end(), std::back_inserter(out));
  }
  REQUIRE_MESSAGE(out.size() >= n, "only ", out.size(), " of ", n, " records within the timeout");
  return out;
}

// Checks that records are exactly indexes first, first + 1, ... of batch_of's data.
void check_sequence(const std::vector<consumer_record>& records, std::int64_t first,
                    const std::string& topic = "t", std::int32_t partition = 0) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const auto expected = first + static_cast<std::int64_t>(i);
    REQUIRE_MESSAGE(r.offset == expected, "record ", i, " has offset ", r.offset);
    CHECK(r.topic == topic);
    CHECK(r.partition == partition);
    CHECK(r.key == key_at(expected));
    CHECK(r.value == value_at(expected));
    CHECK(r.timestamp == timestamp_of(expected));
    REQUIRE(r.headers.size() == 1);
    CHECK(r.headers[0].first == "i");
    CHECK(r.headers[0].second == std::to_string(expected));
  }
}

struct consumer_fixture {
  temp_dir dir{"sluice-consumer-test"};
  broker_process broker{{.data_dir = dir.path() / "data", .extra_args = {}, .env = {}}};
  raw_producer producer{broker.address()};

  consumer_fixture() { create_topic("t", 2); }

  void create_topic(const std::string& name, int partitions,
                    std::map<std::string, std::string> configs = {}) {
    auto a = admin::create({.brokers = broker.address()}).value();
    REQUIRE_OK(
        a->create_topic({.name = name, .partitions = partitions, .configs = std::move(configs)}));
  }
  // Records 0..n-1 into t-0 in batches of `per_batch`, alternating zstd and uncompressed.
  void produce_records(std::int64_t first, std::int64_t n, int per_batch = 50,
                       const std::string& topic = "t") {
    std::vector<byte_buffer> batches;
    for (auto i = first; i < first + n; i += per_batch) {
      const auto count = static_cast<int>(std::min<std::int64_t>(per_batch, first + n - i));
      batches.push_back(
          batch_at(i, count, (i / per_batch) % 2 == 0 ? compression::zstd : compression::none));
    }
    producer.produce(topic, 0, std::move(batches));
  }
  std::unique_ptr<consumer> make_consumer(consumer_config config = {}) {
    if (config.brokers.empty()) config.brokers = broker.address();
    return consumer::create(std::move(config)).value();
  }
};

const topic_partition t0{"t", 0};

// SO_RCVBUF of each of this process's TCP sockets connected to 127.0.0.1:port.
std::vector<int> receive_buffers_of_connections_to(std::uint16_t port) {
  std::vector<int> sizes;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.sin_family != AF_INET || ntohs(peer.sin_port) != port) continue;
    int size = 0;
    socklen_t size_len = sizeof size;
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &size_len) == 0) sizes.push_back(size);
  }
  return sizes;
}

}  // namespace

TEST_CASE_FIXTURE(consumer_fixture, "consumer: replays a partition from the beginning") {
  produce_records(0, 500);
  // Small answers, so that many fetches follow each other, one or two at a time.
  for (const int in_flight : {1, 2}) {
    CAPTURE(in_flight);
    auto c = make_consumer({.max_partition_fetch_bytes = 4096, .max_fetches_in_flight = in_flight});
    REQUIRE_OK(c->assign({t0}));
    REQUIRE_OK(c->seek_to_beginning({t0}));
    CHECK(c->position(t0).value() == 0);
    const auto records = consume(*c, 500);
    CHECK(records.size() == 500);
    check_sequence(records, 0);
    CHECK(c->position(t0).value() == 500);
  }
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: its connection's receive buffer is receive_buffer_bytes") {
  produce_records(0, 10);
  const int asked = static_cast<int>(std::min(receive_buffer_limit(), 300L << 10));
  REQUIRE(asked > 0);
  // Linux reports twice the size asked for (it counts its bookkeeping).
  auto sized_connections = [&] {
    const auto sizes = receive_buffers_of_connections_to(broker.port());
    return std::count(sizes.begin(), sizes.end(), 2 * asked);
  };
  {
    auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::earliest,
                            .receive_buffer_bytes = asked});
    REQUIRE_OK(c->assign({t0}));
    check_sequence(consume(*c, 10), 0);
    CHECK(sized_connections() == 1);
  }
  auto kernel_sized = make_consumer(
      {.auto_offset_reset = consumer_config::offset_reset::earliest, .receive_buffer_bytes = -1});
  REQUIRE_OK(kernel_sized->assign({t0}));
  check_sequence(consume(*kernel_sized, 10), 0);
  CHECK(sized_connections() == 0);
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: auto_offset_reset earliest starts at the log start") {
  produce_records(0, 120);
  auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::earliest});
  REQUIRE_OK(c->assign({t0}));
  check_sequence(consume(*c, 120), 0);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: replays from the middle of a batch by offset") {
  produce_records(0, 300);
  auto c = make_consumer();
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek(t0, 175));  // inside the batch 150..199
  CHECK(c->position(t0).value() == 175);
  const auto records = consume(*c, 125);
  CHECK(records.size() == 125);
  check_sequence(records, 175);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: replays from a timestamp") {
  produce_records(0, 300);
  auto c = make_consumer();
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_timestamp({t0}, timestamp_of(222) - 5));  // between 221 and 222
  CHECK(c->position(t0).value() == 222);
  check_sequence(consume(*c, 78), 222);

  REQUIRE_OK(c->seek_to_timestamp({t0}, timestamp_of(1000)));  // later than every record
  CHECK(c->position(t0).value() == 300);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: after seek_to_end only new records arrive") {
  produce_records(0, 100);
  auto c = make_consumer({.fetch_max_wait = 200ms});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_end({t0}));
  CHECK(c->position(t0).value() == 100);
  auto nothing = c->poll(300ms);
  REQUIRE_OK(nothing);
  CHECK(nothing->empty());
  produce_records(100, 30);
  check_sequence(consume(*c, 30), 100);
  produce_records(130, 5);
  check_sequence(consume(*c, 5), 130);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: a new assignment starts at the end by default") {
  produce_records(0, 40);
  auto c = make_consumer();
  REQUIRE_OK(c->assign({t0}));
  CHECK(c->position(t0).value() == 40);
  produce_records(40, 10);
  check_sequence(consume(*c, 10), 40);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: position and lag follow what was polled") {
  produce_records(0, 1000, 100);
  auto c = make_consumer({.max_poll_records = 100});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  const auto first = consume(*c, 100);
  CHECK(first.size() == 100);
  CHECK(c->position(t0).value() == 100);
  auto lag = c->lag(t0);
  REQUIRE(lag);
  CHECK(*lag == 900);
  consume(*c, 900);
  CHECK(c->position(t0).value() == 1000);
  CHECK(c->lag(t0) == std::optional<std::int64_t>(0));
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: two partitions of two topics are consumed together") {
  create_topic("u", 1);
  produce_records(0, 200);
  produce_records(0, 100, 50, "u");
  const topic_partition u0{"u", 0};
  auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::earliest});
  REQUIRE_OK(c->assign({t0, u0, {"t", 1}}));
  CHECK(c->assignment().size() == 3);
  auto records = consume(*c, 300);
  std::vector<consumer_record> from_t, from_u;
  for (auto& r : records) (r.topic == "t" ? from_t : from_u).push_back(std::move(r));
  check_sequence(from_t, 0, "t");
  check_sequence(from_u, 0, "u");
  auto parts = c->partitions_for("t");
  REQUIRE_OK(parts);
  CHECK(parts->size() == 2);
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: a prefetch buffer smaller than one answer still delivers everything") {
  produce_records(0, 5000, 100);
  // Every answer fills the buffer: fetching resumes only when poll() frees room.
  auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::earliest,
                          .max_partition_fetch_bytes = 4096,
                          .max_poll_records = 7,
                          .max_buffered_bytes = 1});
  REQUIRE_OK(c->assign({t0}));
  check_sequence(consume(*c, 5000), 0);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: assigning an unknown topic or partition fails") {
  auto c = make_consumer();
  auto unknown_topic = c->assign({{"nope", 0}});
  REQUIRE(!unknown_topic);
  CHECK(unknown_topic.error().code == wire::ErrorCode::unknown_topic);
  auto unknown_partition = c->assign({{"t", 2}});
  REQUIRE(!unknown_partition);
  CHECK(unknown_partition.error().code == wire::ErrorCode::unknown_partition);
  CHECK(unknown_partition.error().detail.find("t-2") != std::string::npos);
  CHECK(c->assignment().empty());
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: a seek with a fetch in flight discards its answer") {
  produce_records(0, 2000, 100);
  auto c = make_consumer({.max_poll_records = 10});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  check_sequence(consume(*c, 10), 0);  // the fetcher now has records buffered and in flight
  for (std::int64_t target : {1500, 700, 1999, 3}) {
    CAPTURE(target);
    REQUIRE_OK(c->seek(t0, target));
    auto r = consume(*c, 1);
    CHECK(r.front().offset == target);
    check_sequence(r, target);
  }
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: an out of range position resets per policy") {
  produce_records(0, 60);
  SUBCASE("earliest") {
    auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::earliest});
    REQUIRE_OK(c->assign({t0}));
    REQUIRE_OK(c->seek(t0, 5000));
    check_sequence(consume(*c, 60), 0);
  }
  SUBCASE("latest") {
    auto c = make_consumer({.fetch_max_wait = 100ms});
    REQUIRE_OK(c->assign({t0}));
    REQUIRE_OK(c->seek(t0, 5000));
    // Wait until the reset happened: the position comes back to the end.
    for (int i = 0; i < 100 && c->position(t0).value() != 60; ++i) REQUIRE_OK(c->poll(50ms));
    CHECK(c->position(t0).value() == 60);
    produce_records(60, 3);
    check_sequence(consume(*c, 3), 60);
  }
  SUBCASE("none fails poll naming the partition, until a seek") {
    auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::none});
    REQUIRE_OK(c->assign({t0}));
    auto unpositioned = c->poll(1s);
    REQUIRE(!unpositioned);
    CHECK(unpositioned.error().code == wire::ErrorCode::offset_out_of_range);
    REQUIRE_OK(c->seek(t0, 5000));
    result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
    for (int i = 0; i < 100 && r && r->empty(); ++i) r = c->poll(100ms);
    REQUIRE(!r);
    CHECK(r.error().code == wire::ErrorCode::offset_out_of_range);
    CHECK(r.error().detail.find("t-0") != std::string::npos);
    CHECK(r.error().detail.find("seek to continue") != std::string::npos);
    CHECK(r.error().detail.find("-1") == std::string::npos);  // no unknown figures printed
    // The broker answers an out-of-range fetch with the partition's bounds.
    CHECK(r.error().detail.find("log start 0, high watermark 60") != std::string::npos);
    REQUIRE_OK(c->seek(t0, 10));
    check_sequence(consume(*c, 50), 10);
  }
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: a corrupt batch fails poll once, stops the partition until a seek") {
  produce_records(0, 200);  // batches 0-49 zstd, 50-99 uncompressed, ...
  // Flip the last byte of the second batch in the segment file: the broker serves the file's
  // bytes as they are, so only the consumer's CRC check can notice.
  std::filesystem::path log;
  for (const auto& e : std::filesystem::recursive_directory_iterator(broker.data_dir())) {
    if (e.path().filename() == "00000000000000000000.log" &&
        e.path().parent_path().filename() == "t-0") {
      log = e.path();
    }
  }
  REQUIRE(!log.empty());
  {
    std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    batch_reader reader(as_bytes(std::string_view(bytes.data(), bytes.size())));
    REQUIRE(reader.next().value());
    REQUIRE(reader.next().value());
    const auto last_byte = static_cast<std::streamoff>(reader.position() - 1);
    f.seekp(last_byte);
    f.put(static_cast<char>(bytes[static_cast<std::size_t>(last_byte)] ^ 0x01));
  }

  auto c = make_consumer({.fetch_max_wait = 100ms});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  check_sequence(consume(*c, 50), 0);
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  for (int i = 0; i < 100 && r && r->empty(); ++i) r = c->poll(100ms);
  REQUIRE_MESSAGE(!r.has_value(), "the corruption was reported");
  CHECK(r.error().code == protocol_errc::bad_crc);
  CHECK(r.error().detail.find("t-0") != std::string::npos);
  CHECK(r.error().detail.find("offset 50") != std::string::npos);
  CHECK(c->position(t0).value() == 50);
  auto after = c->poll(300ms);  // stopped: nothing more, and the error is not repeated
  REQUIRE_OK(after);
  CHECK(after->empty());

  REQUIRE_OK(c->seek(t0, 100));
  check_sequence(consume(*c, 100), 100);
}

// The broker fills an answer in the order the Fetch lists partitions and leaves out what no
// longer fits under fetch_max_bytes: listed in one fixed order, partitions late in it would get
// nothing for as long as the first ones had a backlog.
TEST_CASE_FIXTURE(
    consumer_fixture,
    "consumer: every partition with a backlog gets records, not only the first ones") {
  constexpr int partitions = 8;
  constexpr std::int64_t per_partition = 2000;
  create_topic("wide", partitions);
  std::vector<topic_partition> all;
  for (int p = 0; p < partitions; ++p) {
    std::vector<byte_buffer> batches;
    for (std::int64_t i = 0; i < per_partition; i += 50) {
      batches.push_back(batch_at(i, 50, compression::none));  // about 1.8 KiB each
    }
    producer.produce("wide", p, std::move(batches));
    all.push_back({"wide", p});
  }
  // An answer holds about two partitions' share. The partitions start together (one offset
  // reset for all), so every fetch, one at a time, lists all of them.
  auto c = make_consumer({.auto_offset_reset = consumer_config::offset_reset::earliest,
                          .fetch_max_bytes = 8192,
                          .max_partition_fetch_bytes = 4096,
                          .max_fetches_in_flight = 1});
  REQUIRE_OK(c->assign(all));
  // A quarter of the records: in one fixed order, partitions 0 and 1 would have given them all.
  const auto records = consume(*c, partitions * per_partition / 4);
  std::map<std::int32_t, std::vector<consumer_record>> by_partition;
  for (const auto& r : records) by_partition[r.partition].push_back(r);
  for (std::int32_t p = 0; p < partitions; ++p) {
    CAPTURE(p);
    CHECK(!by_partition[p].empty());
    check_sequence(by_partition[p], 0, "wide", p);
  }
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: a topic deleted while consumed fails poll") {
  produce_records(0, 50);
  auto c = make_consumer({.fetch_max_wait = 100ms});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  check_sequence(consume(*c, 50), 0);
  REQUIRE_OK(admin::create({.brokers = broker.address()}).value()->delete_topic("t"));
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  for (int i = 0; i < 100 && r && r->empty(); ++i) r = c->poll(100ms);
  REQUIRE_MESSAGE(!r.has_value(), "the deletion was reported");
  CHECK(r.error().detail.find("t-0") != std::string::npos);
  MESSAGE(r.error().message());
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: resumes after dropped connections") {
  produce_records(0, 3000, 100);
  tcp_proxy proxy(broker.port());
  auto c = make_consumer({.brokers = proxy.address(), .max_poll_records = 100});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  std::vector<consumer_record> all;
  while (all.size() < 3000) {
    auto part = consume(*c, 1);
    std::move(part.begin(), part.end(), std::back_inserter(all));
    if (all.size() % 500 < 100) proxy.drop_connections();
  }
  CHECK(all.size() == 3000);
  check_sequence(all, 0);
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: a connection lost after an answer's message, before its records") {
  // The message says where the next fetch starts, and the consumer moves on as soon as it has
  // it; the records that never came must be fetched again.
  produce_records(0, 3000, 100);  // about 75 KB, one answer
  tcp_proxy proxy(broker.port());
  proxy.cut_next_connection_after(20'000);  // past the message, inside the records
  auto c = make_consumer({.brokers = proxy.address()});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  const auto records = consume(*c, 3000, 10s);
  CHECK(proxy.connections() >= 2);
  CHECK(records.size() == 3000);
  check_sequence(records, 0);
}

TEST_CASE_FIXTURE(consumer_fixture,
                  "consumer: a broker restart is reported after request_timeout and resumed") {
  produce_records(0, 200);
  tcp_proxy proxy(broker.port());
  auto c = make_consumer(
      {.brokers = proxy.address(), .fetch_max_wait = 100ms, .request_timeout = 1000ms});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  check_sequence(consume(*c, 200), 0);

  broker.kill();
  proxy.drop_connections();
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  for (int i = 0; i < 100 && r; ++i) r = c->poll(100ms);
  REQUIRE_MESSAGE(!r.has_value(), "the outage was reported");
  CHECK(r.error().detail.find("keeps retrying") != std::string::npos);

  broker.start();
  proxy.set_target(broker.port());
  raw_producer again(broker.address());
  std::vector<byte_buffer> batches;
  batches.push_back(batch_at(200, 50));
  again.produce("t", 0, std::move(batches));
  // Errors reported while the broker was down may still be queued; records follow them.
  std::vector<consumer_record> after;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (after.size() < 50 && std::chrono::steady_clock::now() < deadline) {
    auto p = c->poll(100ms);
    if (p) std::move(p->begin(), p->end(), std::back_inserter(after));
  }
  REQUIRE(after.size() == 50);
  check_sequence(after, 200);
  CHECK(c->position(t0).value() == 250);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: a paused broker times out, then is resumed") {
  produce_records(0, 100);
  auto c = make_consumer({.fetch_max_wait = 100ms, .request_timeout = 500ms});
  REQUIRE_OK(c->assign({t0}));
  REQUIRE_OK(c->seek_to_beginning({t0}));
  check_sequence(consume(*c, 100), 0);

  broker.pause();
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  for (int i = 0; i < 100 && r; ++i) r = c->poll(100ms);
  broker.resume();
  REQUIRE_MESSAGE(!r.has_value(), "the timeout was reported");
  // The outage is reported with the failure that came once it had lasted request_timeout: a
  // request that timed out, or another one in flight that its closed connection took down.
  INFO(r.error().message());
  CHECK(
      (r.error().code == client_errc::timed_out || r.error().code == client_errc::connection_lost));

  produce_records(100, 50);
  std::vector<consumer_record> after;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (after.size() < 50 && std::chrono::steady_clock::now() < deadline) {
    auto p = c->poll(100ms);  // a second timeout report may still be queued
    if (p) std::move(p->begin(), p->end(), std::back_inserter(after));
  }
  REQUIRE(after.size() == 50);
  check_sequence(after, 100);
}

TEST_CASE_FIXTURE(consumer_fixture, "consumer: a million small records are consumed in order") {
  create_topic("big", 1, {{"flush", "interval:1000"}});
  constexpr std::int64_t total = 1'000'000;
  constexpr int per_batch = 5000;
  for (std::int64_t i = 0; i < total; i += 100'000) produce_records(i, 100'000, per_batch, "big");

  auto c = make_consumer(
      {.auto_offset_reset = consumer_config::offset_reset::earliest, .max_poll_records = 2000});
  const auto start = std::chrono::steady_clock::now();
  REQUIRE_OK(c->assign({{"big", 0}}));
  std::int64_t next = 0;
  while (next < total) {
    auto r = c->poll(5s);
    REQUIRE_MESSAGE(r.has_value(), r.error().message());
    REQUIRE_MESSAGE(!r->empty(), "stalled at offset ", next);
    for (const auto& rec : *r) {
      if (rec.offset != next) REQUIRE(rec.offset == next);
      ++next;
    }
  }
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  MESSAGE(fmt::format("consumed {} records in {:.2f} s: {:.0f} records/s", total, seconds.count(),
                      static_cast<double>(total) / seconds.count()));
  CHECK(c->position({"big", 0}).value() == total);
  CHECK(c->lag({"big", 0}) == std::optional<std::int64_t>(0));
}

}  // namespace sluice
