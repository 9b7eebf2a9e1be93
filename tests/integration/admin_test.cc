// The admin client against a real sluiced: topics created, listed, described, altered and
// deleted, with configs; the broker's refusals arrive with their codes and messages; cluster
// metadata and partition offsets.

#include "admin/admin.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "producer/producer.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/client_connection.h"
#include "protocol/client/io_thread.h"
#include "protocol/record_batch_builder.h"
#include "protocol/wire_errc.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using testing::broker_process;
using testing::temp_dir;

struct admin_fixture {
  temp_dir dir{"sluice-admin-test"};
  broker_process broker{{.data_dir = dir.path() / "data", .extra_args = {}, .env = {}}};
  std::unique_ptr<admin> client = admin::create({.brokers = broker.address()}).value();
};

const config_value* find_config(const topic_description& t, std::string_view name) {
  auto it = std::find_if(t.configs.begin(), t.configs.end(),
                         [&](const config_value& c) { return c.name == name; });
  return it != t.configs.end() ? &*it : nullptr;
}

void check_refused(const result<void>& r, wire::ErrorCode code) {
  REQUIRE_MESSAGE(!r, "expected ", wire::EnumNameErrorCode(code));
  CHECK_MESSAGE(r.error().code == wire::make_error_code(code), r.error().message());
  CHECK_MESSAGE(!r.error().detail.empty(), "the broker's message is kept");
}

// Appends one batch of n records at timestamps ts0, ts0 + 1, ... through a raw connection.
void produce_records(const std::string& address, const std::string& topic, int n,
                     std::int64_t ts0) {
  record_batch_builder b;
  for (int i = 0; i < n; ++i) b.add(ts0 + i, std::nullopt, as_bytes(fmt::format("v{}", i)));
  io_thread io;
  auto addr = parse_broker_list(address).value().front();
  std::promise<result<std::shared_ptr<client_connection>>> connected;
  client_connection::async_connect(io.executor(), addr, {},
                                   [&](auto r) { connected.set_value(std::move(r)); });
  auto conn = connected.get_future().get().value();
  request_builder req;
  const auto range = req.add_payload(std::make_shared<const byte_buffer>(b.build()));
  auto& fbb = req.fbb();
  const std::vector<flatbuffers::Offset<wire::ProducePartition>> parts{
      wire::CreateProducePartition(fbb, 0, &range)};
  const std::vector<flatbuffers::Offset<wire::ProduceTopic>> topics{
      wire::CreateProduceTopicDirect(fbb, topic.c_str(), &parts)};
  req.set_body(wire::CreateProduceRequestDirect(fbb, 1, 30000, &topics));
  std::promise<result<response_frame>> answered;
  auto shared = std::make_shared<request_builder>(std::move(req));
  io.post([&, shared] {
    conn->send(std::move(*shared), [&](auto r) { answered.set_value(std::move(r)); });
  });
  auto frame = answered.get_future().get().value();
  const auto* p = frame.body<wire::ProduceResponse>()->topics()->Get(0)->partitions()->Get(0);
  REQUIRE_MESSAGE(p->error() == wire::ErrorCode::none,
                  (p->error_message() != nullptr ? p->error_message()->str() : ""));
  io.call([&] { conn->close(); });
}

}  // namespace

TEST_CASE_FIXTURE(admin_fixture,
                  "admin: a created topic is listed and described with its configs") {
  REQUIRE_OK(client->create_topic(
      {.name = "orders", .partitions = 3, .configs = {{"retention.ms", "3600000"}}}));
  REQUIRE_OK(client->create_topic({.name = "audit", .partitions = 1, .configs = {}}));

  auto names = client->list_topics();
  REQUIRE_OK(names);
  CHECK(*names == std::vector<std::string>{"audit", "orders"});

  auto t = client->describe_topic("orders");
  REQUIRE_OK(t);
  CHECK(t->name == "orders");
  CHECK(!t->topic_id.empty());
  REQUIRE(t->partitions.size() == 3);
  for (const auto& p : t->partitions) {
    CHECK(p.leader == 0);
    CHECK(p.log_start_offset == 0);
    CHECK(p.high_watermark == 0);
    CHECK(!p.problem);
  }
  const auto* retention = find_config(*t, "retention.ms");
  REQUIRE(retention != nullptr);
  CHECK(retention->value == "3600000");
  CHECK(!retention->is_default);
  const auto* flush = find_config(*t, "flush");
  REQUIRE(flush != nullptr);
  CHECK(flush->is_default);

  auto all = client->describe_topics();
  REQUIRE_OK(all);
  CHECK(all->size() == 2);
}

TEST_CASE_FIXTURE(admin_fixture, "admin: a deleted topic is gone") {
  REQUIRE_OK(client->create_topic({.name = "gone", .partitions = 2, .configs = {}}));
  REQUIRE_OK(client->delete_topic("gone"));
  auto names = client->list_topics();
  REQUIRE_OK(names);
  CHECK(names->empty());
  auto described = client->describe_topic("gone");
  REQUIRE(!described);
  CHECK(described.error().code == wire::ErrorCode::unknown_topic);
  check_refused(client->delete_topic("gone"), wire::ErrorCode::unknown_topic);
}

TEST_CASE_FIXTURE(admin_fixture, "admin: a topic with the longest name is deleted whole") {
  const std::string name(249, 'n');  // "<name>-0.deleted" is longer than a file name may be
  REQUIRE_OK(client->create_topic({.name = name, .partitions = 2, .configs = {}}));
  produce_records(broker.address(), name, 3, 1000);
  REQUIRE_OK(client->delete_topic(name));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / (name + "-0")));
  // Created again, it starts empty: nothing of the deleted topic comes back.
  REQUIRE_OK(client->create_topic({.name = name, .partitions = 1, .configs = {}}));
  CHECK(client->list_offset(name, 0, latest_offset_spec).value() == 0);
  produce_records(broker.address(), name, 2, 2000);
  CHECK(client->list_offset(name, 0, latest_offset_spec).value() == 2);
}

TEST_CASE("admin: partition directories no topic owns are removed at start-up") {
  // What a crash during a topic deletion leaves: the topic is gone from topics.meta, its
  // directories are still there under their own names.
  temp_dir dir{"sluice-admin-test"};
  const auto data_dir = dir.path() / "data";
  broker_process broker({.data_dir = data_dir});
  {
    auto a = admin::create({.brokers = broker.address()}).value();
    REQUIRE_OK(a->create_topic({.name = "kept", .partitions = 2}));
  }
  produce_records(broker.address(), "kept", 5, 1'700'000'000'000);
  REQUIRE(broker.stop() == 0);
  for (const char* orphan : {"gone-0", "kept-7"}) {
    std::filesystem::copy(data_dir / "kept-0", data_dir / orphan);
  }
  std::filesystem::create_directory(data_dir / "notes-1");  // not a partition log: left alone
  broker.start();
  CHECK_FALSE(std::filesystem::exists(data_dir / "gone-0"));
  CHECK_FALSE(std::filesystem::exists(data_dir / "kept-7"));
  CHECK(std::filesystem::exists(data_dir / "notes-1"));
  auto a = admin::create({.brokers = broker.address()}).value();
  auto kept = a->describe_topic("kept");
  REQUIRE_OK(kept);
  CHECK(kept->partitions.at(0).high_watermark == 5);
  // A new topic of the deleted one's name starts empty.
  REQUIRE_OK(a->create_topic({.name = "gone", .partitions = 1}));
  auto gone = a->describe_topic("gone");
  REQUIRE_OK(gone);
  CHECK(gone->partitions.at(0).high_watermark == 0);
}

TEST_CASE("admin: a create beyond the broker's open-files limit is refused, naming it") {
  temp_dir dir{"sluice-admin-test"};
  const auto data_dir = dir.path() / "data";
  broker_process broker({.data_dir = data_dir});
  auto a = admin::create({.brokers = broker.address()}).value();
  REQUIRE_OK(a->create_topic({.name = "small", .partitions = 1}));
  // Descriptors for a few more partitions, not for 200 (each holds its .log and indexes).
  std::size_t open_fds = 0;
  for (const auto& fd :
       std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", broker.pid()))) {
    (void)fd;
    ++open_fds;
  }
  const rlimit few{open_fds + 40, open_fds + 40};
  REQUIRE(::prlimit(broker.pid(), RLIMIT_NOFILE, &few, nullptr) == 0);
  auto refused = a->create_topic({.name = "big", .partitions = 200});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == wire::ErrorCode::invalid_partition_count);
  CHECK_MESSAGE(
      refused.error().message().find("200 partitions need 600 open files") != std::string::npos,
      refused.error().message());
  CHECK_FALSE(std::filesystem::exists(data_dir / "big-0"));
  // What fits is still created.
  REQUIRE_OK(a->create_topic({.name = "fits", .partitions = 2}));
}

// A new topic is listed before all its partitions are open (each shard opens them one at a
// time): a record sent to one not open yet waits for it, and is not refused for good.
TEST_CASE("admin: a record sent to a topic still being created is stored once it opens") {
  temp_dir dir{"sluice-admin-test"};
  broker_process broker({.data_dir = dir.path() / "data"});
  auto creator = admin::create({.brokers = broker.address()}).value();
  constexpr std::int32_t partitions = 2000;
  std::optional<result<void>> created;  // written by the creating thread, read after its join
  std::thread creating(
      [&] { created = creator->create_topic({.name = "growing", .partitions = partitions}); });
  auto watcher = admin::create({.brokers = broker.address()}).value();
  for (;;) {
    auto names = watcher->list_topics();
    REQUIRE_OK(names);
    if (std::find(names->begin(), names->end(), "growing") != names->end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  producer_config c;
  c.brokers = broker.address();
  // An idempotent producer would wait for its producer id, which the controller hands out only
  // after the creation.
  c.idempotence = false;
  auto p = producer::create(c).value();
  producer_record r;
  r.topic = "growing";
  r.partition = partitions - 1;
  r.value = "first";
  auto stored = p->send(std::move(r));
  creating.join();
  REQUIRE(created.has_value());
  REQUIRE_OK(*created);
  auto outcome = stored.get();
  REQUIRE_OK(outcome);
  CHECK(outcome->partition == partitions - 1);
  CHECK(outcome->offset == 0);
}

TEST_CASE("admin: a create that fails part-way leaves no topic behind") {
  temp_dir dir{"sluice-admin-test"};
  const auto data_dir = dir.path() / "data";
  // Partition 150's log cannot be made durable when it is created.
  broker_process broker({.data_dir = data_dir,
                         .env = {"SLUICE_FAULT_INJECTION=sync:EIO:partition=big-150:times=all"}});
  auto a = admin::create({.brokers = broker.address()}).value();
  REQUIRE_OK(a->create_topic({.name = "small", .partitions = 1}));
  auto failed = a->create_topic({.name = "big", .partitions = 200});
  REQUIRE_FALSE(failed.has_value());
  CHECK_MESSAGE(failed.error().message().find("big-150") != std::string::npos,
                failed.error().message());
  auto names = a->list_topics();
  REQUIRE_OK(names);
  CHECK(*names == std::vector<std::string>{"small"});
  CHECK_FALSE(std::filesystem::exists(data_dir / "big-0"));
  a.reset();
  REQUIRE(broker.stop() == 0);
  broker.start();  // nothing of "big" to open
  a = admin::create({.brokers = broker.address()}).value();
  names = a->list_topics();
  REQUIRE_OK(names);
  CHECK(*names == std::vector<std::string>{"small"});
}

TEST_CASE_FIXTURE(admin_fixture, "admin: the broker's refusals arrive with code and message") {
  REQUIRE_OK(client->create_topic({.name = "dup", .partitions = 1, .configs = {}}));
  check_refused(client->create_topic({.name = "dup", .partitions = 1, .configs = {}}),
                wire::ErrorCode::topic_already_exists);
  check_refused(client->create_topic({.name = "bad/name", .partitions = 1, .configs = {}}),
                wire::ErrorCode::invalid_topic_name);
  check_refused(client->create_topic({.name = "", .partitions = 1, .configs = {}}),
                wire::ErrorCode::invalid_topic_name);
  check_refused(client->create_topic({.name = "zero", .partitions = 0, .configs = {}}),
                wire::ErrorCode::invalid_partition_count);
  check_refused(
      client->create_topic({.name = "cfg", .partitions = 1, .configs = {{"no.such", "1"}}}),
      wire::ErrorCode::invalid_config);
  check_refused(
      client->create_topic({.name = "cfg", .partitions = 1, .configs = {{"flush", "sometimes"}}}),
      wire::ErrorCode::invalid_config);
  auto names = client->list_topics();
  REQUIRE_OK(names);
  CHECK(*names == std::vector<std::string>{"dup"});
}

TEST_CASE_FIXTURE(admin_fixture, "admin: validate_only creates nothing") {
  REQUIRE_OK(client->create_topic({.name = "dry", .partitions = 1, .configs = {}}, true));
  auto names = client->list_topics();
  REQUIRE_OK(names);
  CHECK(names->empty());
  check_refused(client->create_topic({.name = "dry", .partitions = -1, .configs = {}}, true),
                wire::ErrorCode::invalid_partition_count);
}

TEST_CASE_FIXTURE(admin_fixture, "admin: configs are altered incrementally, all or nothing") {
  REQUIRE_OK(client->create_topic(
      {.name = "t", .partitions = 1, .configs = {{"segment.bytes", "1048576"}}}));
  REQUIRE_OK(client->alter_topic_config("t", {{"retention.ms", "60000"}}, {"segment.bytes"}));
  auto t = client->describe_topic("t");
  REQUIRE_OK(t);
  CHECK(find_config(*t, "retention.ms")->value == "60000");
  CHECK(!find_config(*t, "retention.ms")->is_default);
  CHECK(find_config(*t, "segment.bytes")->is_default);

  check_refused(client->alter_topic_config("t", {{"retention.ms", "1"}, {"flush", "bogus"}}),
                wire::ErrorCode::invalid_config);
  t = client->describe_topic("t");
  REQUIRE_OK(t);
  CHECK(find_config(*t, "retention.ms")->value == "60000");

  REQUIRE_OK(client->alter_topic_config("t", {{"retention.ms", "5"}}, {}, true));
  t = client->describe_topic("t");
  REQUIRE_OK(t);
  CHECK(find_config(*t, "retention.ms")->value == "60000");

  check_refused(client->alter_topic_config("nope", {{"retention.ms", "1"}}),
                wire::ErrorCode::unknown_topic);
}

TEST_CASE_FIXTURE(admin_fixture, "admin: cluster metadata names the broker and the topics") {
  REQUIRE_OK(client->create_topic({.name = "m", .partitions = 4, .configs = {}}));
  auto c = client->describe_cluster();
  REQUIRE_OK(c);
  REQUIRE(c->brokers.size() == 1);
  CHECK(c->brokers[0].id == 0);
  CHECK(c->brokers[0].port == broker.port());
  CHECK(c->controller_id == 0);
  REQUIRE(c->topics.size() == 1);
  CHECK(c->topics[0].name == "m");
  CHECK(c->topics[0].partitions == 4);
}

TEST_CASE_FIXTURE(admin_fixture, "admin: list_offset finds earliest, latest and by timestamp") {
  REQUIRE_OK(client->create_topic({.name = "o", .partitions = 1, .configs = {}}));
  auto empty_end = client->list_offset("o", 0, latest_offset_spec);
  REQUIRE_OK(empty_end);
  CHECK(*empty_end == std::optional<std::int64_t>(0));

  produce_records(broker.address(), "o", 10, 1000);
  produce_records(broker.address(), "o", 10, 2000);
  CHECK(client->list_offset("o", 0, earliest_offset_spec).value() == 0);
  CHECK(client->list_offset("o", 0, latest_offset_spec).value() == 20);
  CHECK(client->list_offset("o", 0, 1005).value() == 5);
  CHECK(client->list_offset("o", 0, 1500).value() == 10);
  CHECK(!client->list_offset("o", 0, 9999).value());

  auto t = client->describe_topic("o");
  REQUIRE_OK(t);
  CHECK(t->partitions[0].high_watermark == 20);
  CHECK(t->partitions[0].log_end_offset == 20);
  CHECK(t->partitions[0].size_bytes > 0);
  CHECK(t->partitions[0].segments >= 1);

  auto missing = client->list_offset("o", 7, latest_offset_spec);
  REQUIRE(!missing);
  CHECK(missing.error().code == wire::ErrorCode::unknown_partition);
  auto no_topic = client->list_offset("nope", 0, latest_offset_spec);
  REQUIRE(!no_topic);
  CHECK(no_topic.error().code == wire::ErrorCode::unknown_topic);
}

TEST_CASE_FIXTURE(admin_fixture, "admin: a call after the broker restarted reconnects") {
  REQUIRE_OK(client->create_topic({.name = "r", .partitions = 1, .configs = {}}));
  // Same port is not guaranteed after a restart, so a fresh client follows the new address;
  // the old one reports the lost connection instead of hanging.
  broker.stop();
  auto down = client->list_topics();
  REQUIRE(!down);
  broker.start();
  auto again = admin::create({.brokers = broker.address()}).value();
  auto names = again->list_topics();
  REQUIRE_OK(names);
  CHECK(*names == std::vector<std::string>{"r"});
}

}  // namespace sluice
