// The example programs of tests/examples/ (quoted in the README's "Using the libraries"), built
// as they are and run against a real sluiced: their exit status and output are what the README
// promises, and what they did is checked through the libraries.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "admin/admin.h"
#include "consumer/consumer.h"
#include "producer/producer.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::bin_dir;
using testing::broker_process;
using testing::lines_of;
using testing::program_result;
using testing::run_program;
using testing::temp_dir;

struct examples_fixture {
  temp_dir dir{"sluice-examples-test"};
  broker_process broker{{.data_dir = dir.path() / "data", .extra_args = {}, .env = {}}};
  std::unique_ptr<admin> admin_client = admin::create({.brokers = broker.address()}).value();

  program_result run(const std::string& example, const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}) {
    auto r = run_program(bin_dir() / example, args, dir.path() / "runs", env, 60s);
    REQUIRE_MESSAGE(!r.timed_out, example, " did not finish within 60 s:\n", r.out, r.err);
    return r;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every record of every partition of `topic`, keyed by (partition, offset).
std::map<std::pair<std::int32_t, std::int64_t>, consumer_record> read_topic(
    const std::string& address, const std::string& topic, std::size_t expected) {
  auto c = consumer::create({.brokers = address}).value();
  auto partitions = c->partitions_for(topic);
  REQUIRE_OK(partitions);
  REQUIRE_OK(c->assign(*partitions));
  REQUIRE_OK(c->seek_to_beginning({}));
  std::map<std::pair<std::int32_t, std::int64_t>, consumer_record> out;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    auto records = c->poll(500ms);
    REQUIRE_OK(records);
    for (auto& r : *records) out.emplace(std::pair{r.partition, r.offset}, std::move(r));
  }
  return out;
}

}  // namespace

TEST_CASE_FIXTURE(examples_fixture,
                  "examples: example-admin creates, lists, describes, alters and deletes a topic") {
  const auto r = run("example-admin", {broker.address(), "example-topic"});
  INFO("stdout:\n", r.out, "stderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto& out = r.out;
  CHECK(contains(out, "created example-topic\n"));
  CHECK(contains(out, "topics: example-topic\n"));
  CHECK(contains(out, "topic example-topic (id "));
  CHECK(contains(out, "3 partitions\n"));
  for (int p = 0; p < 3; ++p) {
    CHECK(contains(out, fmt::format("  partition {}: leader 0, offsets 0..0, 0 bytes", p)));
  }
  const auto altered_at = out.find("after alter:");
  REQUIRE(altered_at != std::string::npos);
  const auto before = out.substr(0, altered_at);
  const auto after = out.substr(altered_at);
  CHECK(contains(before, "  retention.ms = 86400000\n"));
  CHECK(contains(before, "  segment.bytes = 16777216\n"));
  CHECK(contains(after, "  retention.ms = 3600000\n"));
  CHECK_FALSE(contains(after, "segment.bytes"));  // back to the default: not listed
  CHECK(contains(out, "deleted example-topic\n"));
  auto names = admin_client->list_topics();
  REQUIRE_OK(names);
  CHECK(names->empty());
}

TEST_CASE_FIXTURE(examples_fixture,
                  "examples: example-admin fails with the broker's message for an existing topic") {
  REQUIRE_OK(admin_client->create_topic({.name = "taken", .partitions = 1, .configs = {}}));
  const auto r = run("example-admin", {broker.address(), "taken"});
  INFO("stdout:\n", r.out, "stderr:\n", r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "create: "));
  CHECK(contains(r.err, "taken"));
}

TEST_CASE_FIXTURE(examples_fixture,
                  "examples: example-producer stores keyed records where its output says") {
  REQUIRE_OK(admin_client->create_topic({.name = "events", .partitions = 3, .configs = {}}));
  const auto r = run("example-producer", {broker.address(), "events", "20"});
  INFO("stdout:\n", r.out, "stderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  // "record <i> stored at events-<p>@<offset>" for each of the 20, then the last one.
  const std::regex stored(R"(record (\d+) stored at events-(\d+)@(\d+))");
  const std::regex last(R"(last record stored at events-(\d+)@(\d+))");
  std::map<int, std::pair<std::int32_t, std::int64_t>> where;
  std::optional<std::pair<std::int32_t, std::int64_t>> last_at;
  for (const auto& line : lines_of(r.out)) {
    std::smatch m;
    if (std::regex_match(line, m, stored)) {
      where[std::stoi(m[1])] = {std::stoi(m[2]), std::stoll(m[3])};
    } else if (std::regex_match(line, m, last)) {
      last_at = {std::stoi(m[1]), std::stoll(m[2])};
    } else {
      FAIL_CHECK("unexpected output line: ", line);
    }
  }
  REQUIRE(where.size() == 20);
  REQUIRE(last_at);

  const auto records = read_topic(broker.address(), "events", 21);
  REQUIRE(records.size() == 21);
  for (const auto& entry : where) {  // no structured binding: CAPTURE takes it (clang 14)
    const auto i = entry.first;
    const auto& at = entry.second;
    CAPTURE(i);
    const auto it = records.find(at);
    REQUIRE(it != records.end());
    CHECK(it->second.key == fmt::format("user-{}", i % 3));
    CHECK(it->second.value == fmt::format("event {}", i));
    CHECK(at.first == partition_for_key(fmt::format("user-{}", i % 3), 3));
  }
  const auto it = records.find(*last_at);
  REQUIRE(it != records.end());
  CHECK(it->second.key == "user-0");
  CHECK(it->second.value == "last event");
}

TEST_CASE_FIXTURE(examples_fixture,
                  "examples: example-consumer prints every record of every partition, "
                  "finding the broker through SLUICE_BROKERS") {
  REQUIRE_OK(admin_client->create_topic({.name = "orders", .partitions = 2, .configs = {}}));
  std::set<std::string> expected;
  {
    auto p = producer::create({.brokers = broker.address()}).value();
    for (int i = 0; i < 12; ++i) {
      auto md = p->send({.topic = "orders",
                         .key = fmt::format("k{}", i),
                         .value = fmt::format("order {}", i),
                         .partition = i % 2})
                    .get();
      REQUIRE_OK(md);
      expected.insert(
          fmt::format("orders-{}@{} key=k{} value=order {}", md->partition, md->offset, i, i));
    }
  }
  // An empty BROKERS argument: the library falls back to $SLUICE_BROKERS.
  const auto r =
      run("example-consumer", {"", "orders", "12"}, {"SLUICE_BROKERS=" + broker.address()});
  INFO("stdout:\n", r.out, "stderr:\n", r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto lines = lines_of(r.out);
  CHECK(lines.size() == 12);
  CHECK(std::set<std::string>(lines.begin(), lines.end()) == expected);
}

TEST_CASE_FIXTURE(examples_fixture,
                  "examples: example-consumer and example-producer fail with a message for a "
                  "topic that does not exist") {
  const auto consumed = run("example-consumer", {broker.address(), "missing", "1"});
  INFO("stdout:\n", consumed.out, "stderr:\n", consumed.err);
  CHECK(consumed.exit_code == 1);
  CHECK(contains(consumed.err, "missing"));
  const auto produced = run("example-producer", {broker.address(), "missing", "1"});
  INFO("stdout:\n", produced.out, "stderr:\n", produced.err);
  CHECK(produced.exit_code == 1);
  CHECK(contains(produced.err, "failed"));
}

}  // namespace sluice
