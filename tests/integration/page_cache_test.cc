// The broker-wide page cache budget (--page-cache-budget-bytes) against a real sluiced: many
// partitions written to together keep about the budget behind their durable ends, each its
// share, where each topic alone would keep 64 MiB (segment/page_cache_budget.h).

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <string>

#include "admin/admin.h"
#include "producer/producer.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/test_support.h"
#include "tests/page_residency.h"

namespace sluice {
namespace {

using testing::broker_process;
using testing::eventually;
using testing::temp_dir;

constexpr int partitions = 4;
constexpr std::uint64_t per_partition = 8 << 20;

// Sends per_partition bytes to each of the first `count` partitions of `topic` (flush=always:
// acknowledged once durable, so the drops behind the durable end can happen).
void fill_partitions(const std::string& address, const std::string& topic, int count) {
  producer_config config;
  config.brokers = address;
  config.codec = compression::none;  // the bytes on disk are the bytes sent
  auto p = producer::create(config).value();
  const std::string value(16 * 1024, 'v');
  std::atomic<int> failed{0};
  // Round-robin, so every partition is written to (active in the budget) all along.
  for (std::uint64_t sent = 0; sent < per_partition; sent += value.size()) {
    for (int part = 0; part < count; ++part) {
      REQUIRE_OK(p->send({.topic = topic, .value = value, .partition = part},
                         [&failed](const result<record_metadata>& r) {
                           if (!r) failed.fetch_add(1);
                         }));
    }
  }
  REQUIRE_OK(p->flush());
  REQUIRE(failed.load() == 0);
}

// A broker started with `--page-cache-budget-bytes <budget>`, a topic of `partitions`
// partitions, and per_partition bytes sent to each of the first `written` of them.
struct filled_broker {
  temp_dir dir{"sluice-page-cache-test"};
  broker_process broker;

  explicit filled_broker(const std::string& budget, int written = partitions)
      : broker({.data_dir = dir.path() / "data",
                .extra_args = {"--page-cache-budget-bytes", budget}}) {
    auto admin_client = admin::create({.brokers = broker.address()}).value();
    REQUIRE_OK(admin_client->create_topic({.name = "t", .partitions = partitions}));
    fill_partitions(broker.address(), "t", written);
  }

  [[nodiscard]] std::filesystem::path first_segment(int part) const {
    return dir.path() / "data" / fmt::format("t-{}", part) / "00000000000000000000.log";
  }
};

}  // namespace

TEST_CASE("partitions share --page-cache-budget-bytes: each keeps its share of the page cache") {
  // 4 MiB over 4 partitions: 1 MiB each, where page.cache.keep.bytes alone keeps 64 MiB.
  filled_broker b("4194304");
  CHECK(b.broker.log_text().find("page_cache_budget_bytes=4194304") != std::string::npos);
  for (int part = 0; part < partitions; ++part) {
    CAPTURE(part);
    const auto file = b.first_segment(part);
    const auto size = std::filesystem::file_size(file);
    REQUIRE(size >= per_partition);
    // All but about the last MiB is dropped (the drops run on the broker's I/O thread).
    CHECK(eventually([&] { return test::resident_share(file, 0, size - (2 << 20)) < 0.1; }));
    CHECK(test::resident_share(file, size - (512 << 10), size) > 0.9);
  }
}

TEST_CASE(
    "a partition written to alone keeps the whole page cache budget, and drops it once idle") {
  // Partitions 1-3 are never written to: they take no share of the 4 MiB.
  filled_broker b("4194304", 1);
  const auto file = b.first_segment(0);
  const auto size = std::filesystem::file_size(file);
  REQUIRE(size >= per_partition);
  CHECK(eventually([&] { return test::resident_share(file, 0, size - (5 << 20)) < 0.1; }));
  CHECK(test::resident_share(file, size - (7 << 19), size) > 0.9);  // the last 3.5 MiB

  // Idle for page_cache_budget::idle_after (10 s), it leaves the budget and drops the rest
  // (the shard looks every second).
  CHECK(eventually([&] { return test::resident_share(file, 0, size - (64 << 10)) < 0.1; },
                   std::chrono::seconds(30)));
}

TEST_CASE("with --page-cache-budget-bytes -1 each partition keeps what its topic says") {
  filled_broker b("-1");
  for (int part = 0; part < partitions; ++part) {
    CAPTURE(part);
    const auto file = b.first_segment(part);
    const auto size = std::filesystem::file_size(file);
    CHECK(test::resident_share(file, 0, size / 4096 * 4096) > 0.9);  // 8 MiB < 64 MiB: all kept
  }
}

}  // namespace sluice
