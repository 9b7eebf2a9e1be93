// EIO, torn writes and failed fdatasyncs injected into a real sluiced through its test-only
// fault hook (SLUICE_FAULT_INJECTION, segment/io/fault_spec.h). The rule checked here is the
// one docs/architecture.md states ("Disk errors"):
//  - a failed write (EIO, or ENOSPC; with or without a torn prefix on disk) fails that append
//    with a clear error; the log is cut back to the last whole batch and the partition stays
//    online: the next append takes the same offset;
//  - a failed fdatasync takes the partition offline: produce gets storage_error naming the
//    partition, fetch still serves what was acknowledged, other partitions are unaffected; a
//    restart recovers it with every acknowledged record;
//  - so does a failed cut back after a torn write (the torn bytes stay on disk, never served;
//    recovery at the restart cuts them).

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "admin/admin.h"
#include "protocol/wire_errc.h"
#include "tests/disk/disk_test_support.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::acked_map;
using testing::broker_process;
using testing::check_partition;
using testing::has;
using testing::read_partition;
using testing::send_one;
using testing::temp_dir;

constexpr std::size_t value_size = 1000;

producer_config producer_for(const std::string& address) {
  return {.brokers = address,
          .acks = 1,
          .linger = 0ms,
          .codec = compression::none,
          .idempotence = false,
          .max_in_flight = 1,
          .request_timeout = 10s,  // no answer is expected to be late: a busy disk's can be
          .delivery_timeout = 30s,
          .retry_backoff = 50ms};
}

struct stream {
  std::string topic;
  std::int32_t partition = 0;
  std::string tag;
  std::uint64_t sent = 0;
  acked_map acked{};

  // Sends the next record; records the offset when acknowledged.
  result<record_metadata> send(producer& p) {
    const std::uint64_t seq = sent++;
    auto r = send_one(p, topic, partition, tag, seq, value_size);
    if (r) acked[seq] = r->offset;
    return r;
  }
  // Sends until one fails (at most `limit`); that failure.
  error send_until_failure(producer& p, int limit = 10) {
    for (int i = 0; i < limit; ++i) {
      auto r = send(p);
      if (!r) return r.error();
    }
    FAIL("no send to ", topic, "-", partition, " failed in ", limit, " tries");
    return {};
  }
  void check(const std::string& address, bool allow_unacked) const {
    CAPTURE(tag);
    check_partition(read_partition(address, topic, partition), tag, value_size, sent, acked,
                    allow_unacked);
  }
};

TEST_SUITE("io_faults") {
  TEST_CASE("injected EIO, torn writes and a failed fdatasync, end to end") {
    temp_dir dir;
    const auto data_dir = dir.path() / "data";
    const std::string spec =
        "write:EIO:partition=faulty-0:after=3;"                // a write fails, nothing written
        "write:EIO:partition=faulty-1:after=3:written=100;"    // torn: 100 bytes, then EIO
        "write:ENOSPC:partition=faulty-2:after=3:written=50;"  // torn, then ENOSPC (retried)
        "sync:EIO:partition=faulty-3:after=3;"                 // an fdatasync fails
        "write:EIO:partition=faulty-4:after=3:written=100;"    // torn, and then
        "truncate:EIO:partition=faulty-4";                     //   cutting it back fails
    std::optional<broker_process> broker;
    broker.emplace(
        broker_process::options{.data_dir = data_dir,
                                .extra_args = {"--shards", "2"},
                                .env = {fmt::format("SLUICE_FAULT_INJECTION={}", spec)}});
    {
      auto a = admin::create({.brokers = broker->address()}).value();
      REQUIRE_OK(a->create_topic({.name = "faulty", .partitions = 5}));
      REQUIRE_OK(a->create_topic({.name = "healthy", .partitions = 1}));
    }
    CHECK(has(broker->log_text(), "TEST-ONLY fault injection"));
    auto p = producer::create(producer_for(broker->address())).value();
    stream eio{"faulty", 0, "eio"};
    stream torn{"faulty", 1, "torn"};
    stream enospc{"faulty", 2, "enospc"};
    stream sync{"faulty", 3, "sync"};
    stream uncut{"faulty", 4, "uncut"};
    stream healthy{"healthy", 0, "healthy"};
    REQUIRE_OK(healthy.send(*p));

    // A failed write: storage_error with the errno and the file, to this producer.
    {
      const error e = eio.send_until_failure(*p);
      CHECK(e.code == wire::make_error_code(wire::ErrorCode::storage_error));
      CHECK_MESSAGE(has(e.message(), "Input/output error"), e.message());
      CHECK_MESSAGE(has(e.message(), "faulty-0"), e.message());
      CHECK(eio.acked.size() == 3);
    }
    // A torn write: the same, and the torn bytes are cut away.
    {
      const error e = torn.send_until_failure(*p);
      CHECK(e.code == wire::make_error_code(wire::ErrorCode::storage_error));
      CHECK_MESSAGE(has(e.message(), "100 of"), e.message());
      CHECK(torn.acked.size() == 3);
    }
    // A torn write that fails with ENOSPC: not_enough_space is retriable, the producer's retry
    // is stored, once and whole.
    for (int i = 0; i < 5; ++i) REQUIRE_OK(enospc.send(*p));
    CHECK(has(broker->log_text(), "No space left on device"));

    // After a failed write the partition stays online: the next append takes the failed one's
    // offset, and nothing partial is ever read.
    for (auto* s : {&eio, &torn}) {
      for (int i = 0; i < 3; ++i) REQUIRE_OK(s->send(*p));
      CHECK(s->acked.rbegin()->second == static_cast<std::int64_t>(s->acked.size()) - 1);
      s->check(broker->address(), false);
    }
    enospc.check(broker->address(), false);

    // A failed fdatasync: the partition goes offline, naming itself; what was acknowledged
    // stays readable; the other partitions go on.
    {
      const error e = sync.send_until_failure(*p);
      CHECK(e.code == wire::make_error_code(wire::ErrorCode::storage_error));
      CHECK_MESSAGE(has(e.message(), "faulty-3"), e.message());
      CHECK(!sync.acked.empty());
      const error again = sync.send_until_failure(*p, 1);
      CHECK(again.code == wire::make_error_code(wire::ErrorCode::storage_error));
      CHECK_MESSAGE(has(again.message(), "faulty-3"), again.message());
      CHECK_MESSAGE(has(again.message(), "offline"), again.message());
      sync.check(broker->address(), false);
      auto a = admin::create({.brokers = broker->address()}).value();
      auto d = a->describe_topic("faulty");
      REQUIRE_OK(d);
      for (const auto& part : d->partitions) {
        CAPTURE(part.partition);
        CHECK(part.problem.has_value() == (part.partition == 3));
      }
      for (const auto& part : d->partitions) {
        if (part.partition != 3 || !part.problem) continue;
        CHECK(part.problem->code == wire::make_error_code(wire::ErrorCode::storage_error));
        CHECK_MESSAGE(has(part.problem->message(), "offline"), part.problem->message());
      }
    }
    // A torn write whose cut back fails: the write's error to the producer, then the partition
    // is offline like after a failed fdatasync; the torn bytes are never served.
    {
      const error e = uncut.send_until_failure(*p);
      CHECK(e.code == wire::make_error_code(wire::ErrorCode::storage_error));
      CHECK_MESSAGE(has(e.message(), "100 of"), e.message());
      CHECK(uncut.acked.size() == 3);
      const error again = uncut.send_until_failure(*p, 1);
      CHECK(again.code == wire::make_error_code(wire::ErrorCode::storage_error));
      CHECK_MESSAGE(has(again.message(), "offline"), again.message());
      uncut.check(broker->address(), false);
      CHECK(has(broker->log_text(), "truncate"));
      auto a = admin::create({.brokers = broker->address()}).value();
      auto d = a->describe_topic("faulty");
      REQUIRE_OK(d);
      for (const auto& part : d->partitions) {
        if (part.partition != 4) continue;
        REQUIRE(part.problem.has_value());
        CHECK(part.problem->code == wire::make_error_code(wire::ErrorCode::storage_error));
        CHECK_MESSAGE(has(part.problem->message(), "offline"), part.problem->message());
      }
    }
    for (auto* s : {&eio, &torn, &enospc, &healthy}) REQUIRE_OK(s->send(*p));
    for (auto* s : {&eio, &torn, &enospc, &healthy}) s->check(broker->address(), false);
    p.reset();

    // A restart without faults runs recovery: every partition is back with every acknowledged
    // record. The batch whose fdatasync failed was not acknowledged: it may be there (whole)
    // or not. The torn one is cut.
    // Shutdown writes no clean checkpoint for the offline partition and says so: exit 1.
    CHECK(broker->stop() == 1);
    CHECK(has(broker->log_text(), "shutdown failed"));
    broker.reset();
    broker.emplace(broker_process::options{.data_dir = data_dir, .extra_args = {"--shards", "2"}});
    p = producer::create(producer_for(broker->address())).value();
    for (auto* s : {&eio, &torn, &enospc, &sync, &uncut, &healthy}) REQUIRE_OK(s->send(*p));
    for (auto* s : {&eio, &torn, &enospc, &healthy}) s->check(broker->address(), false);
    sync.check(broker->address(), true);
    uncut.check(broker->address(), false);  // the torn batch was cut by recovery
  }

  TEST_CASE("a topic whose partition went offline is deleted with its directory") {
    temp_dir dir;
    const auto data_dir = dir.path() / "data";
    broker_process broker(broker_process::options{
        .data_dir = data_dir, .env = {"SLUICE_FAULT_INJECTION=sync:EIO:partition=off-0:after=1"}});
    auto a = admin::create({.brokers = broker.address()}).value();
    REQUIRE_OK(a->create_topic({.name = "off", .partitions = 1}));
    auto p = producer::create(producer_for(broker.address())).value();
    stream off{"off", 0, "off"};
    (void)off.send_until_failure(*p);  // the failed fdatasync takes the partition offline
    p.reset();
    REQUIRE(std::filesystem::exists(data_dir / "off-0"));
    REQUIRE_OK(a->delete_topic("off"));
    CHECK_FALSE(std::filesystem::exists(data_dir / "off-0"));
    auto names = a->list_topics();
    REQUIRE_OK(names);
    CHECK(names->empty());
    CHECK(has(broker.log_text(), "deleting topic off"));
  }

  TEST_CASE("a partition that cannot be opened at start-up is offline; the others are served") {
    temp_dir dir;
    const auto data_dir = dir.path() / "data";
    broker_process broker({.data_dir = data_dir});
    auto a = admin::create({.brokers = broker.address()}).value();
    REQUIRE_OK(a->create_topic({.name = "two", .partitions = 2}));
    auto p = producer::create(producer_for(broker.address())).value();
    stream good{"two", 0, "good"};
    stream bad{"two", 1, "bad"};
    for (auto* s : {&good, &bad}) REQUIRE_OK(s->send(*p));
    p.reset();
    a.reset();
    REQUIRE(broker.stop() == 0);
    // The partition's segment is no longer a file it can open.
    const auto segment = data_dir / "two-1" / "00000000000000000000.log";
    std::filesystem::rename(segment, dir.path() / "moved.log");
    std::filesystem::create_directory(segment);
    broker.start();
    CHECK(has(broker.log_text(), "partition two-1 could not be opened"));
    p = producer::create(producer_for(broker.address())).value();
    REQUIRE_OK(good.send(*p));
    good.check(broker.address(), false);
    const auto refused = bad.send_until_failure(*p);
    CHECK(refused.code == wire::ErrorCode::storage_error);
    CHECK(has(refused.message(), "two-1 could not be opened at start-up"));
    a = admin::create({.brokers = broker.address()}).value();
    auto described = a->describe_topic("two");
    REQUIRE_OK(described);
    REQUIRE(described->partitions.size() == 2);
    CHECK_FALSE(described->partitions[0].problem.has_value());
    REQUIRE(described->partitions[1].problem.has_value());
    CHECK(described->partitions[1].problem->code == wire::ErrorCode::storage_error);
    REQUIRE_OK(a->delete_topic("two"));
    CHECK_FALSE(std::filesystem::exists(data_dir / "two-1"));
  }

  TEST_CASE("a malformed SLUICE_FAULT_INJECTION stops sluiced at start-up, saying why") {
    temp_dir dir;
    CHECK_THROWS_WITH_AS(broker_process({.data_dir = dir.path() / "data",
                                         .env = {"SLUICE_FAULT_INJECTION=write:EBADF"},
                                         .start_timeout = 10s}),
                         doctest::Contains("unknown errno 'EBADF'"), std::runtime_error);
  }
}

}  // namespace
}  // namespace sluice
