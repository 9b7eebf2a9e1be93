// Disk full, end to end: a real sluiced whose data dir is a small tmpfs in this test's private
// mount namespace (disk_faults_main.cc). Both ways a disk fills:
//  - the free-space floor (--min-free-bytes): appends are refused before anything is written;
//  - a real ENOSPC from the write itself (--min-free-bytes 0): the append fails whole and the
//    log is cut back to the last whole batch.
// Either way producers see not_enough_space, reads and admin requests go on, appends resume
// once deleting a topic or retention frees space, and every acknowledged record is still there
// byte for byte, before and after a restart. Everything is checked through the clients.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "admin/admin.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"
#include "tests/disk/disk_test_support.h"
#include "tests/integration/test_support.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::acked_map;
using testing::broker_process;
using testing::check_partition;
using testing::eventually;
using testing::has;
using testing::read_partition;
using testing::send_one;
using testing::small_tmpfs;

constexpr std::uint64_t disk_bytes = 8ULL << 20;
constexpr std::size_t record_size = 32 * 1024;

producer_config producer_for_full_disk(const std::string& address) {
  // not_enough_space is retriable: the producer retries until delivery_timeout, then fails the
  // record with timed_out naming the last error.
  return {.brokers = address,
          .acks = 1,
          .linger = 0ms,
          .codec = compression::none,
          .idempotence = false,
          .max_in_flight = 1,
          .request_timeout = 1s,
          .delivery_timeout = 1s,
          .retry_backoff = 50ms};
}

// Whether the process is alive (not a zombie): it must survive a full disk.
bool alive(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string pid_field, comm, state;
  stat >> pid_field >> comm >> state;
  return stat && state != "Z";
}

struct filling_stream {
  std::string topic;
  std::string tag;
  std::uint64_t sent = 0;
  acked_map acked{};
  std::size_t size = record_size;

  result<record_metadata> send(producer& p) {
    const std::uint64_t seq = sent++;
    auto r = send_one(p, topic, 0, tag, seq, size);
    if (r) acked[seq] = r->offset;
    return r;
  }
  // Sends until the disk refuses one; that error.
  error fill(producer& p) {
    for (int i = 0; i < 1000; ++i) {
      auto r = send(p);
      if (!r) return r.error();
    }
    FAIL("the disk never filled");
    return {};
  }
  // Sends until one is acknowledged again (space was freed), within `timeout`.
  void resume(producer& p, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto r = send(p);
      if (r) return;
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                      "appends to " << topic << " did not resume: " << r.error().message());
    }
  }
  void check(const std::string& address, std::int64_t from_offset = 0) const {
    CAPTURE(tag);
    // A send that timed out may have been stored by a retry (whole, once): allow_unacked.
    check_partition(read_partition(address, topic, 0), tag, size, sent, acked, true, from_offset);
  }
};

void check_not_enough_space(const error& e) {
  CAPTURE(e.message());
  CHECK(e.code == make_error_code(client_errc::timed_out));
  CHECK(has(e.message(), "not enough space"));
}

TEST_SUITE("disk_full") {
  TEST_CASE("below the free-space floor appends are refused; deleting a topic lets them resume") {
    small_tmpfs disk(disk_bytes);
    std::optional<broker_process> broker;
    const std::vector<std::string> args = {"--shards", "2", "--min-free-bytes",
                                           std::to_string(3ULL << 20)};
    broker.emplace(broker_process::options{.data_dir = disk.data_dir(), .extra_args = args});
    auto a = admin::create({.brokers = broker->address()}).value();
    REQUIRE_OK(a->create_topic({.name = "filler", .configs = {{"segment.bytes", "1048576"}}}));
    REQUIRE_OK(a->create_topic({.name = "main", .configs = {{"segment.bytes", "1048576"}}}));
    auto p = producer::create(producer_for_full_disk(broker->address())).value();
    filling_stream filler{"filler", "filler"};
    filling_stream main{"main", "main"};
    for (int i = 0; i < 10; ++i) REQUIRE_OK(main.send(*p));

    const error e = filler.fill(*p);
    check_not_enough_space(e);
    CHECK(has(e.message(), "--min-free-bytes"));
    CHECK(filler.acked.size() > 20);
    // Every partition is refused, not only the one that filled the disk.
    check_not_enough_space(main.fill(*p));
    CHECK(disk.free_bytes() > 2ULL << 20);  // the floor held: nothing was written below it

    // Reads and admin requests go on.
    filler.check(broker->address());
    main.check(broker->address());
    REQUIRE_OK(a->describe_topics());

    // Space freed by deleting a topic: appends resume.
    REQUIRE_OK(a->delete_topic("filler"));
    main.resume(*p);
    for (int i = 0; i < 5; ++i) REQUIRE_OK(main.send(*p));
    main.check(broker->address());
    CHECK(alive(broker->pid()));

    p.reset();
    a.reset();
    CHECK(broker->stop() == 0);
    broker->start();
    main.check(broker->address());
  }

  TEST_CASE("a real ENOSPC fails the append whole; retention frees space and appends resume") {
    small_tmpfs disk(disk_bytes);
    // 64 KiB the test can give back if the fill leaves not a page for topics.meta (see below).
    const auto ballast = disk.data_dir() / "test-ballast";
    std::ofstream(ballast) << std::string(64 * 1024, 'b');
    std::optional<broker_process> broker;
    const std::vector<std::string> args = {
        "--shards", "2", "--min-free-bytes", "0", "--retention-check-interval-ms", "100"};
    broker.emplace(broker_process::options{.data_dir = disk.data_dir(), .extra_args = args});
    auto a = admin::create({.brokers = broker->address()}).value();
    REQUIRE_OK(a->create_topic({.name = "main", .configs = {{"segment.bytes", "1048576"}}}));
    REQUIRE_OK(a->create_topic({.name = "other"}));
    auto p = producer::create(producer_for_full_disk(broker->address())).value();
    filling_stream main{"main", "main"};
    filling_stream other{"other", "other"};
    for (int i = 0; i < 3; ++i) REQUIRE_OK(other.send(*p));

    const error e = main.fill(*p);
    check_not_enough_space(e);
    CHECK(has(e.message(), "No space left on device"));
    CHECK(alive(broker->pid()));
    CHECK(main.acked.size() > 100);

    // Nothing partial is readable, every acknowledged record is; the broker serves reads.
    main.check(broker->address());
    other.check(broker->address());

    // Retention frees space: keep about 3 segments. The config change persists topics.meta
    // first; if the fill happened to leave not a page free, that fails cleanly (the documented
    // limit of --min-free-bytes 0) and the test gives back its ballast, as an operator would.
    const std::map<std::string, std::string> retention{
        {"retention.bytes", std::to_string(3ULL << 20)}};
    if (auto alter = a->alter_topic_config("main", retention); !alter) {
      CAPTURE(alter.error().message());
      CHECK(alter.error().code == wire::make_error_code(wire::ErrorCode::not_enough_space));
      std::filesystem::remove(ballast);
      REQUIRE_OK(a->alter_topic_config("main", retention));
    }
    std::int64_t log_start = 0;
    REQUIRE(eventually(
        [&] {
          auto o = a->list_offset("main", 0, earliest_offset_spec);
          log_start = o && *o ? **o : 0;
          return log_start > 0;
        },
        15s));
    main.resume(*p);
    for (int i = 0; i < 5; ++i) REQUIRE_OK(main.send(*p));
    // Retention keeps running (every 100 ms) as the appends resume: stop it, then take the log
    // start it left, below which records were deleted on purpose.
    REQUIRE_OK(a->alter_topic_config("main", {}, {"retention.bytes"}));
    {
      auto o = a->list_offset("main", 0, earliest_offset_spec);
      REQUIRE_OK(o);
      REQUIRE(o->has_value());
      CHECK(**o >= log_start);
      log_start = **o;
    }
    REQUIRE_OK(other.send(*p));
    main.check(broker->address(), log_start);
    other.check(broker->address());
    CHECK(alive(broker->pid()));

    p.reset();
    a.reset();
    CHECK(broker->stop() == 0);
    broker->start();
    main.check(broker->address(), log_start);
    other.check(broker->address());
  }

  TEST_CASE("a disk full to the last byte: rolls and index entries fail cleanly, no crash") {
    // Every batch of `tiny` rolls a segment (seals the last one's indexes, creates new files)
    // and adds index entries; they must fail with ENOSPC, not kill the broker (an mmapped index
    // page the file system cannot back is a SIGBUS).
    small_tmpfs disk(4ULL << 20);
    std::optional<broker_process> broker;
    const std::vector<std::string> args = {"--shards", "1", "--min-free-bytes", "0"};
    broker.emplace(broker_process::options{.data_dir = disk.data_dir(), .extra_args = args});
    auto a = admin::create({.brokers = broker->address()}).value();
    REQUIRE_OK(a->create_topic({.name = "filler"}));
    REQUIRE_OK(a->create_topic(
        {.name = "tiny", .configs = {{"segment.bytes", "1024"}, {"index.interval.bytes", "1"}}}));
    auto p = producer::create(producer_for_full_disk(broker->address())).value();
    filling_stream filler{"filler", "filler"};
    for (int i = 0; i < 3; ++i) REQUIRE_OK(filler.send(*p));
    // Fill with ever smaller records, so that the last page goes too.
    filling_stream tiny{"tiny", "tiny"};
    tiny.size = 16 * 1024;
    for (;;) {
      auto r = tiny.send(*p);
      REQUIRE_MESSAGE(alive(broker->pid()), "sluiced died:\n" << broker->log_text());
      if (r) continue;
      check_not_enough_space(r.error());
      if (tiny.size <= 64) break;
      tiny.size /= 2;
    }
    CHECK(disk.free_bytes() < 8 * 1024);
    for (int i = 0; i < 3; ++i) check_not_enough_space(tiny.fill(*p));
    REQUIRE_MESSAGE(alive(broker->pid()), "sluiced died:\n" << broker->log_text());
    // tiny's records have different sizes: check what was read without the size check.
    for (const auto& r : read_partition(broker->address(), "tiny", 0)) {
      REQUIRE(r.value.has_value());
      REQUIRE(r.key.has_value());
      const auto seq = std::stoull(std::string(r.key->substr(5)));
      CHECK(tiny.acked.contains(seq));
      CHECK(*r.value == testing::value_of("tiny", seq, r.value->size()));
    }
    filler.check(broker->address());

    // Documented limit (docs/architecture.md, "Disk errors"): with no floor and not a byte
    // left, even a topic deletion cannot persist topics.meta. It fails cleanly, saying so.
    if (auto del = a->delete_topic("filler"); !del) {
      CAPTURE(del.error().message());
      CHECK(del.error().code == wire::make_error_code(wire::ErrorCode::not_enough_space));
      REQUIRE_MESSAGE(alive(broker->pid()), "sluiced died:\n" << broker->log_text());
      check_not_enough_space(tiny.fill(*p));
      // Space added from outside (an operator grows the volume): everything works again.
      disk.resize(8ULL << 20);
      REQUIRE_OK(a->delete_topic("filler"));
    }
    tiny.resume(*p);
    REQUIRE_MESSAGE(alive(broker->pid()), "sluiced died:\n" << broker->log_text());
    p.reset();
    a.reset();
    CHECK(broker->stop() == 0);
    broker->start();
    std::size_t read = 0;
    for (const auto& r : read_partition(broker->address(), "tiny", 0)) {
      const auto seq = std::stoull(std::string(r.key->substr(5)));
      CHECK(tiny.acked.contains(seq));
      CHECK(*r.value == testing::value_of("tiny", seq, r.value->size()));
      ++read;
    }
    CHECK(read == tiny.acked.size());
  }
}

}  // namespace
}  // namespace sluice
