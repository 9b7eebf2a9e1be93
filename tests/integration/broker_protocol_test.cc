// The broker against clients that misbehave: garbage, oversized and truncated frames, unknown
// request types and versions, stalled and idle connections. Each gets an error or is closed
// with a logged reason; every other client keeps being served. Also: SIGTERM shuts down
// cleanly (exit 0) and a restart brings the topics back.

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>

#include "admin/admin.h"
#include "protocol/frame.h"
#include "protocol/record_batch_builder.h"
#include "protocol/wire_errc.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/raw_client.h"
#include "tests/integration/test_support.h"
#include "tests/result_printer.h"

namespace sluice {

using namespace testing;
using namespace std::chrono_literals;

namespace {

// A well-behaved client still gets answers: the broker is serving everyone else.
void check_still_serving(const broker_process& broker) {
  raw_client good(broker.port());
  REQUIRE(good.send(metadata_request(), 99));
  auto r = good.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().request_id() == 99);
  CHECK(r->response().error() == wire::ErrorCode::none);
  CHECK(r->body<wire::MetadataResponse>() != nullptr);
}

request_builder create_topic_request(std::string_view name, int partitions) {
  request_builder b;
  auto& fbb = b.fbb();
  auto topic = wire::CreateNewTopic(fbb, fbb.CreateString(name.data(), name.size()), partitions);
  b.set_body(wire::CreateCreateTopicsRequest(fbb, fbb.CreateVector(&topic, 1)));
  return b;
}

// Sends, as `id`, a fetch of partition 0 from offset 0 that waits up to max_wait_ms (60 s) for
// `min_bytes`; returns once the broker is serving it (frames are handled in order, so a
// metadata request sent after it is answered only then).
void start_long_poll(raw_client& c, std::string_view topic, std::uint64_t id,
                     std::int32_t min_bytes = 1, std::int32_t max_wait_ms = 60'000) {
  request_builder b;
  auto& fbb = b.fbb();
  auto part = wire::CreateFetchPartition(fbb, 0, 0, 1 << 20);
  auto t = wire::CreateFetchTopic(fbb, fbb.CreateString(topic.data(), topic.size()),
                                  fbb.CreateVector(&part, 1));
  b.set_body(
      wire::CreateFetchRequest(fbb, max_wait_ms, min_bytes, 1 << 20, fbb.CreateVector(&t, 1)));
  REQUIRE(c.send(std::move(b), id));
  REQUIRE(c.send(metadata_request(), id + 1));
  auto md = c.read_response();
  REQUIRE(md.has_value());
  REQUIRE(md->response().request_id() == id + 1);
}

}  // namespace

TEST_CASE("garbage bytes get corrupt_message and a closed connection; others are unaffected") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client bad(broker.port());
  // A frame of 16 bytes whose 8-byte "message" is not a flatbuffer.
  auto prefix = encode_frame_prefix(8, 4);
  REQUIRE(bad.send_bytes(prefix));
  REQUIRE(bad.send_bytes(as_bytes("garbage!gar!")));
  auto r = bad.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().request_id() == 0);
  CHECK(r->response().error() == wire::ErrorCode::corrupt_message);
  CHECK(bad.closed_within(5s));
  check_still_serving(broker);
}

TEST_CASE("a frame above the request limit is refused with message_too_large") {
  temp_dir dir;
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--max-request-bytes", "65536"}});
  raw_client bad(broker.port());
  auto prefix = encode_frame_prefix(100, (4ULL << 30) - 200);  // a length prefix near 4 GiB
  REQUIRE(bad.send_bytes(prefix));
  auto r = bad.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().error() == wire::ErrorCode::message_too_large);
  REQUIRE(r->response().error_message() != nullptr);
  CHECK(r->response().error_message()->str().find("65536") != std::string::npos);
  CHECK(bad.closed_within(5s));
  check_still_serving(broker);
}

TEST_CASE("ApiVersions tells the request limit, so that clients keep within it") {
  temp_dir dir;
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--max-request-bytes", "65536"}});
  raw_client c(broker.port());
  request_builder b;
  auto& fbb = b.fbb();
  b.set_body(wire::CreateApiVersionsRequest(fbb, fbb.CreateString("test"), fbb.CreateString("0")));
  REQUIRE(c.send(std::move(b), 7));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().error() == wire::ErrorCode::none);
  const auto* body = r->body<wire::ApiVersionsResponse>();
  REQUIRE(body != nullptr);
  CHECK(body->max_request_bytes() == 65536);
}

TEST_CASE("a message length that does not fit its frame is corrupt_message") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client bad(broker.port());
  std::array<std::byte, 8> prefix{};
  store_be(prefix.data(), std::uint32_t{8});
  store_be(prefix.data() + 4, std::uint32_t{100});
  REQUIRE(bad.send_bytes(prefix));
  auto r = bad.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().error() == wire::ErrorCode::corrupt_message);
  check_still_serving(broker);
}

TEST_CASE("an unsupported request version gets unsupported_version and the connection lives") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(metadata_request(), 5, 999));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().request_id() == 5);
  CHECK(r->response().error() == wire::ErrorCode::unsupported_version);
  REQUIRE(c.send(metadata_request(), 6));
  auto ok = c.read_response();
  REQUIRE(ok.has_value());
  CHECK(ok->response().error() == wire::ErrorCode::none);
}

TEST_CASE("a client that stalls in the middle of a frame is disconnected") {
  temp_dir dir;
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--frame-read-timeout-ms", "300"}});
  raw_client stalled(broker.port());
  auto prefix = encode_frame_prefix(100, 0);
  REQUIRE(stalled.send_bytes(prefix));  // and then nothing
  check_still_serving(broker);
  CHECK(stalled.closed_within(5s));
  CHECK(broker.log_text().find("stalled in the middle of a frame") != std::string::npos);
}

TEST_CASE("an idle connection is closed after the idle timeout") {
  temp_dir dir;
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--idle-timeout-ms", "300"}});
  raw_client idle(broker.port());
  CHECK(idle.closed_within(5s));
}

TEST_CASE("a connection waiting for its long poll's answer is not idle") {
  temp_dir dir;
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--idle-timeout-ms", "300"}});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("quiet", 1), 1));
  REQUIRE(c.read_response().has_value());
  start_long_poll(c, "quiet", 2, 1, 2000);  // nothing arrives: answered empty after 2 s
  auto r = c.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().request_id() == 2);
  CHECK(broker.log_text().find("idle: no request") == std::string::npos);
  CHECK(c.closed_within(5s));  // idle once answered
}

TEST_CASE("ListOffsets refuses a timestamp below -2 with invalid_request naming it") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("times", 1), 1));
  REQUIRE(c.read_response().has_value());
  request_builder b;
  auto& fbb = b.fbb();
  auto part = wire::CreateListOffsetsPartition(fbb, 0, std::numeric_limits<std::int64_t>::min());
  auto t = wire::CreateListOffsetsTopic(fbb, fbb.CreateString("times"), fbb.CreateVector(&part, 1));
  b.set_body(wire::CreateListOffsetsRequest(fbb, fbb.CreateVector(&t, 1)));
  REQUIRE(c.send(std::move(b), 2));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  const auto* p = r->body<wire::ListOffsetsResponse>()->topics()->Get(0)->partitions()->Get(0);
  CHECK(p->error() == wire::ErrorCode::invalid_request);
  REQUIRE(p->error_message() != nullptr);
  CHECK(p->error_message()->str().find("-9223372036854775808") != std::string::npos);
  check_still_serving(broker);
}

TEST_CASE("ListOffsets answers with the log end as of the lookup, for a timestamp none reaches") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("times", 1), 1));
  REQUIRE(c.read_response().has_value());
  record_batch_builder builder;  // offsets 0-29, timestamps from 1000
  for (int i = 0; i < 30; ++i) builder.add(1000 + i, std::nullopt, as_bytes("v"));
  REQUIRE(c.send(produce_request("times", builder.build()), 2));
  REQUIRE(c.read_response().has_value());
  for (const std::int64_t spec : {std::int64_t{-2}, std::int64_t{-1}, std::int64_t{1010},
                                  std::numeric_limits<std::int64_t>::max()}) {
    CAPTURE(spec);
    request_builder b;
    auto& fbb = b.fbb();
    auto part = wire::CreateListOffsetsPartition(fbb, 0, spec);
    auto t =
        wire::CreateListOffsetsTopic(fbb, fbb.CreateString("times"), fbb.CreateVector(&part, 1));
    b.set_body(wire::CreateListOffsetsRequest(fbb, fbb.CreateVector(&t, 1)));
    REQUIRE(c.send(std::move(b), 3));
    auto r = c.read_response();
    REQUIRE(r.has_value());
    const auto* p = r->body<wire::ListOffsetsResponse>()->topics()->Get(0)->partitions()->Get(0);
    CHECK(p->error() == wire::ErrorCode::none);
    CHECK(p->log_end_offset() == 30);
    const std::int64_t expected = spec == -2 ? 0 : spec == -1 ? 30 : spec == 1010 ? 10 : -1;
    CHECK(p->offset() == expected);
  }
}

TEST_CASE("pipelined requests on one connection are all answered, matched by id") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  for (std::uint64_t id = 1; id <= 50; ++id) REQUIRE(c.send(metadata_request(), id));
  std::vector<bool> seen(51, false);
  for (int i = 0; i < 50; ++i) {
    auto r = c.read_response();
    REQUIRE(r.has_value());
    const auto id = r->response().request_id();
    REQUIRE(id >= 1);
    REQUIRE(id <= 50);
    CHECK_FALSE(seen[id]);
    seen[id] = true;
  }
}

TEST_CASE("a fetch answer says where the next fetch of the partition continues") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("next", 1), 1));
  REQUIRE(c.read_response().has_value());
  const std::string value(100, 'v');
  std::size_t batch_bytes = 0;
  for (std::uint64_t i = 0; i < 3; ++i) {  // offsets 0-99, 100-199, 200-299
    record_batch_builder builder;
    for (int r = 0; r < 100; ++r) builder.add(1'700'000'000'000, std::nullopt, as_bytes(value));
    auto batch = builder.build();
    batch_bytes = batch.size();
    REQUIRE(c.send(produce_request("next", std::move(batch)), 10 + i));
    REQUIRE(c.read_response().has_value());
  }
  auto next_of = [&](std::int64_t from, std::int32_t max_bytes) {
    REQUIRE(c.send(fetch_request("next", from, max_bytes), 20));
    auto r = c.read_response();
    REQUIRE(r.has_value());
    const auto* p = r->body<wire::FetchResponse>()->topics()->Get(0)->partitions()->Get(0);
    REQUIRE(p->error() == wire::ErrorCode::none);
    return p->next_fetch_offset();
  };
  const auto room_for_one = static_cast<std::int32_t>(batch_bytes + batch_bytes / 2);
  CHECK(next_of(0, room_for_one) == 100);
  CHECK(next_of(150, room_for_one) == 200);  // the batch holding 150 is sent whole
  CHECK(next_of(150, 1 << 20) == 300);
  CHECK(next_of(300, 1 << 20) == -1);  // nothing to send: no position to continue from
}

TEST_CASE("a produce whose partitions share batch bytes is refused whole; the logs stay empty") {
  // Batches are appended in place from the request's bytes, each log stamping its own offsets
  // into its batch: two partitions pointing at the same bytes would write over each other.
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("shared", 2), 1));
  REQUIRE(c.read_response().has_value());
  record_batch_builder builder;
  builder.add(1'700'000'000'000, std::nullopt, as_bytes("one batch, two partitions"));
  request_builder b;
  auto& fbb = b.fbb();
  const auto range = b.add_payload(std::make_shared<const byte_buffer>(builder.build()));
  const std::array partitions{wire::CreateProducePartition(fbb, 0, &range),
                              wire::CreateProducePartition(fbb, 1, &range)};
  auto topic = wire::CreateProduceTopic(fbb, fbb.CreateString("shared"),
                                        fbb.CreateVector(partitions.data(), partitions.size()));
  b.set_body(wire::CreateProduceRequest(fbb, 1, 1000, fbb.CreateVector(&topic, 1)));
  REQUIRE(c.send(std::move(b), 2));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  CHECK(r->response().error() == wire::ErrorCode::invalid_request);
  REQUIRE(r->response().error_message() != nullptr);
  CHECK(r->response().error_message()->str() ==
        "the records of shared-0 and shared-1 overlap in the request's payload");
  REQUIRE(c.send(fetch_request("shared", 0, 1 << 20), 3));
  auto f = c.read_response();
  REQUIRE(f.has_value());
  const auto* p = f->body<wire::FetchResponse>()->topics()->Get(0)->partitions()->Get(0);
  CHECK(p->error() == wire::ErrorCode::none);
  CHECK(p->high_watermark() == 0);
  check_still_serving(broker);
}

TEST_CASE("SIGTERM exits 0 after a clean shutdown, and a restart brings the topics back") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  {
    raw_client c(broker.port());
    REQUIRE(c.send(create_topic_request("kept", 3), 1));
    auto r = c.read_response();
    REQUIRE(r.has_value());
    const auto* body = r->body<wire::CreateTopicsResponse>();
    REQUIRE(body != nullptr);
    CHECK(body->topics()->Get(0)->error() == wire::ErrorCode::none);
  }
  CHECK(broker.stop() == 0);
  CHECK(broker.log_text().find("stopped cleanly") != std::string::npos);
  broker.start();
  raw_client c(broker.port());
  REQUIRE(c.send(metadata_request(), 2));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  const auto* md = r->body<wire::MetadataResponse>();
  REQUIRE(md != nullptr);
  REQUIRE(md->topics()->size() == 1);
  CHECK(md->topics()->Get(0)->name()->str() == "kept");
  CHECK(md->topics()->Get(0)->partitions()->size() == 3);
}

TEST_CASE("two brokers with different data dirs run side by side") {
  temp_dir dir;
  broker_process a({.data_dir = dir.path() / "a"});
  broker_process b({.data_dir = dir.path() / "b"});
  CHECK(a.port() != b.port());
  check_still_serving(a);
  check_still_serving(b);
}

TEST_CASE("a second broker on the same data dir refuses to start") {
  temp_dir dir;
  broker_process a({.data_dir = dir.path() / "data"});
  CHECK_THROWS_WITH_AS(broker_process({.data_dir = dir.path() / "data"}),
                       doctest::Contains("in use by another sluiced"), std::runtime_error);
}

TEST_CASE("a refused acks=0 produce closes the connection, the only way to tell that producer") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  request_builder b;
  auto& fbb = b.fbb();
  auto batch = std::make_shared<const byte_buffer>(byte_buffer(61, std::byte{0}));  // not a batch
  auto range = b.add_payload(batch);
  auto partition = wire::CreateProducePartition(fbb, 0, &range);
  auto topic =
      wire::CreateProduceTopic(fbb, fbb.CreateString("nowhere"), fbb.CreateVector(&partition, 1));
  b.set_body(wire::CreateProduceRequest(fbb, 0, 1000, fbb.CreateVector(&topic, 1)));
  REQUIRE(c.send(std::move(b), 1));
  CHECK(c.closed_within(5s));
  CHECK(broker.log_text().find("acks=0 produce to nowhere-0 failed") != std::string::npos);
  check_still_serving(broker);
}

TEST_CASE("SIGTERM answers a waiting long poll at once instead of waiting out its max_wait") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("quiet", 1), 1));
  REQUIRE(c.read_response().has_value());
  start_long_poll(c, "quiet", 2);
  const auto started = std::chrono::steady_clock::now();
  CHECK(broker.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  auto r = c.read_response(1s);
  REQUIRE(r.has_value());
  CHECK(r->response().request_id() == 2);
  const auto* fetch = r->body<wire::FetchResponse>();
  REQUIRE(fetch != nullptr);
  CHECK(fetch->topics()->Get(0)->partitions()->Get(0)->high_watermark() == 0);
}

TEST_CASE("SIGTERM does not wait out the long poll of a client that has already left") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  {
    raw_client c(broker.port());
    REQUIRE(c.send(create_topic_request("left", 1), 1));
    REQUIRE(c.read_response().has_value());
    start_long_poll(c, "left", 2);
  }  // the client goes, its fetch still waiting on the broker
  REQUIRE(testing::eventually(
      [&] { return broker.log_text().find("client closed the connection") != std::string::npos; }));
  const auto started = std::chrono::steady_clock::now();
  CHECK(broker.stop(50s) == 0);
  CHECK(std::chrono::steady_clock::now() - started < 10s);  // not the fetch's 60 s
}

// The broker's open descriptors whose target names `needle` (readlink of /proc/PID/fd/*).
int open_files_naming(pid_t pid, std::string_view needle) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid), ec)) {
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().find(needle) != std::string::npos) ++n;
  }
  return n;
}

// Creates `topic` (1 partition) with one small batch in it, and starts a long poll of it (request
// id 3) for more bytes than that (1 MiB): the fetch waits up to its max_wait (60 s), holding what
// it read of the log.
void start_long_poll_short_of_min_bytes(raw_client& c, std::string_view topic) {
  REQUIRE(c.send(create_topic_request(topic, 1), 1));
  REQUIRE(c.read_response().has_value());
  record_batch_builder builder;
  builder.add(1'700'000'000'000, std::nullopt, as_bytes(std::string_view("a little")));
  REQUIRE(c.send(produce_request(topic, builder.build()), 2));
  REQUIRE(c.read_response().has_value());
  start_long_poll(c, topic, 3, 1 << 20);
}

void delete_topic_through_admin(const broker_process& broker, const std::string& topic) {
  auto admin_client = admin::create({.brokers = fmt::format("127.0.0.1:{}", broker.port())});
  REQUIRE_OK(admin_client);
  REQUIRE_OK((*admin_client)->delete_topic(topic));
}

TEST_CASE("a long poll whose client has left ends with it: a deleted topic's files are let go") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  {
    raw_client c(broker.port());
    start_long_poll_short_of_min_bytes(c, "gone");
  }  // the client goes
  REQUIRE(testing::eventually(
      [&] { return broker.log_text().find("client closed the connection") != std::string::npos; }));
  delete_topic_through_admin(broker, "gone");
  // Nothing of the deleted partition stays open (and its disk space taken) for the fetch's 60 s.
  CHECK(testing::eventually([&] { return open_files_naming(broker.pid(), "gone-0") == 0; }, 10s));
}

TEST_CASE("deleting a topic answers the long polls waiting on it at once, with unknown_topic") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  start_long_poll_short_of_min_bytes(c, "doomed");
  const auto deleted = std::chrono::steady_clock::now();
  delete_topic_through_admin(broker, "doomed");
  auto r = c.read_response(30s);
  REQUIRE(r.has_value());
  CHECK(std::chrono::steady_clock::now() - deleted < 20s);  // not at max_wait
  REQUIRE(r->response().request_id() == 3);
  const auto* p = r->body<wire::FetchResponse>()->topics()->Get(0)->partitions()->Get(0);
  CHECK(p->error() == wire::ErrorCode::unknown_topic);
  CHECK(p->records() == nullptr);
  // The answer let go of the deleted partition's files.
  CHECK(testing::eventually([&] { return open_files_naming(broker.pid(), "doomed-0") == 0; }, 10s));
  check_still_serving(broker);
}

TEST_CASE("a long poll short of min_bytes sleeps until more arrives, then answers with it all") {
  temp_dir dir;
  broker_process broker({.data_dir = dir.path() / "data"});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("trickle", 1), 1));
  REQUIRE(c.read_response().has_value());
  const auto batch_of = [](std::size_t value_bytes) {
    record_batch_builder builder;
    const std::string value(value_bytes, 'v');
    builder.add(1'700'000'000'000, std::nullopt, as_bytes(std::string_view(value)));
    return builder.build();
  };
  REQUIRE(c.send(produce_request("trickle", batch_of(100)), 2));
  REQUIRE(c.read_response().has_value());
  // One small batch is there, less than min_bytes: the fetch waits for more.
  start_long_poll(c, "trickle", 3, 4096);
  const double cpu_before = cpu_seconds(broker.pid());
  std::this_thread::sleep_for(1s);
  // A fetch that re-read the partition in a loop until max_wait burned a core here.
  CHECK(cpu_seconds(broker.pid()) - cpu_before < 0.3);
  raw_client producer(broker.port());
  const auto more_sent = std::chrono::steady_clock::now();
  REQUIRE(producer.send(produce_request("trickle", batch_of(5000)), 1));
  REQUIRE(producer.read_response().has_value());
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->response().request_id() == 3);
  CHECK(std::chrono::steady_clock::now() - more_sent < 30s);  // woken, not at max_wait (60 s)
  const auto* p = r->body<wire::FetchResponse>()->topics()->Get(0)->partitions()->Get(0);
  CHECK(p->next_fetch_offset() == 2);  // both batches
  CHECK(p->high_watermark() == 2);
}

TEST_CASE("options come from a config file too: broker-wide topic defaults apply to new topics") {
  temp_dir dir;
  const auto config = dir.path() / "sluiced.toml";
  std::ofstream(config)
      << "default-topic-config = [\"flush=interval:100\", \"retention.ms=5000\"]\n";
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--config", config.string()}});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("configured", 1), 1));
  REQUIRE(c.read_response().has_value());
  request_builder b;
  b.set_body(wire::CreateDescribeTopicsRequest(b.fbb()));
  REQUIRE(c.send(std::move(b), 2));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  const auto* topics = r->body<wire::DescribeTopicsResponse>()->topics();
  REQUIRE(topics->size() == 1);
  int checked = 0;
  for (const auto* e : *topics->Get(0)->configs()) {
    if (e->name()->str() == "flush") {
      CHECK(e->value()->str() == "interval:100");
      ++checked;
    }
    if (e->name()->str() == "retention.ms") {
      CHECK(e->value()->str() == "5000");
      CHECK(e->is_default());
      ++checked;
    }
  }
  CHECK(checked == 2);
}

TEST_CASE("a bad option or config file value stops start-up with a message naming it") {
  temp_dir dir;
  CHECK_THROWS_WITH_AS(broker_process({.data_dir = dir.path() / "data",
                                       .extra_args = {"--default-topic-config", "flush=never"}}),
                       doctest::Contains("flush"), std::runtime_error);
  CHECK_THROWS_WITH_AS(broker_process({.data_dir = dir.path() / "data",
                                       .extra_args = {"--busy-poll-us", "1000000"}}),
                       doctest::Contains("--busy-poll-us"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      broker_process({.data_dir = dir.path() / "data", .extra_args = {"--idle-timeout-ms", "0"}}),
      doctest::Contains("--idle-timeout-ms"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      broker_process({.data_dir = dir.path() / "data", .extra_args = {"--write-timeout-ms", "-5"}}),
      doctest::Contains("--write-timeout-ms"), std::runtime_error);
  CHECK_THROWS_WITH_AS(broker_process({.data_dir = dir.path() / "data",
                                       .extra_args = {"--page-cache-budget-bytes", "-2"}}),
                       doctest::Contains("--page-cache-budget-bytes"), std::runtime_error);
}

TEST_CASE("a client that never reads its responses cannot hold up shutdown past its timeout") {
  temp_dir dir;
  broker_process broker(
      {.data_dir = dir.path() / "data", .extra_args = {"--shutdown-timeout-ms", "500"}});
  raw_client c(broker.port());
  REQUIRE(c.send(create_topic_request("big", 1), 1));
  REQUIRE(c.read_response().has_value());
  const std::string value(1000, 'v');
  for (int i = 0; i < 16; ++i) {
    record_batch_builder builder;
    for (int r = 0; r < 250; ++r) builder.add(1'700'000'000'000, std::nullopt, as_bytes(value));
    REQUIRE(c.send(produce_request("big", builder.build()), 10 + static_cast<std::uint64_t>(i)));
    auto r = c.read_response();
    REQUIRE(r.has_value());
    const auto* p = r->body<wire::ProduceResponse>()->topics()->Get(0)->partitions()->Get(0);
    REQUIRE_MESSAGE(p->error() == wire::ErrorCode::none, p->error_message()->str());
  }
  REQUIRE(c.send(fetch_request("big", 0, 8 << 20), 99));
  auto probe = c.read_response();
  REQUIRE(probe.has_value());
  const auto* fp = probe->body<wire::FetchResponse>()->topics()->Get(0)->partitions()->Get(0);
  REQUIRE(fp->records() != nullptr);
  CHECK(fp->records()->length() > 3'000'000);
  // ~4 MB per answer, never read: the broker's writes to this socket block.
  for (std::uint64_t id = 100; id < 150; ++id)
    REQUIRE(c.send(fetch_request("big", 0, 8 << 20), id));
  REQUIRE(c.read_response().has_value());  // the fetches are being served; read no more
  check_still_serving(broker);
  const auto started = std::chrono::steady_clock::now();
  CHECK(broker.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - started < 15s);
  CHECK(broker.log_text().find("shutdown timeout reached") != std::string::npos);
}

}  // namespace sluice
