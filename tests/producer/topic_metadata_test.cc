#include "producer/topic_metadata.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::producer_internal {
namespace {

using namespace std::chrono_literals;
using clock = topic_metadata::clock;

struct metadata_fixture {
  std::atomic<int> fetches{0};
  topic_metadata md;

  explicit metadata_fixture(std::chrono::milliseconds max_age = 1h)
      : md([this](const std::string&) { ++fetches; }, max_age, 10ms) {}

  // Waits until a caller started a fetch, then answers it.
  void answer_when_asked(int fetch_number, std::int32_t partitions) {
    while (fetches < fetch_number) std::this_thread::yield();
    md.set("t", partitions);
  }
};

TEST_CASE("the first call fetches and waits; later calls answer from the cache") {
  metadata_fixture f;
  auto first = std::async(std::launch::async,
                          [&] { return f.md.partition_count("t", clock::now() + 10s, true); });
  f.answer_when_asked(1, 6);
  REQUIRE(first.get().value() == 6);
  CHECK(f.md.partition_count("t", clock::now(), true).value() == 6);
  CHECK(f.fetches == 1);
}

TEST_CASE("callers waiting for the same topic share one fetch") {
  metadata_fixture f;
  std::vector<std::future<result<std::int32_t>>> callers;
  for (int i = 0; i < 4; ++i) {
    callers.push_back(std::async(
        std::launch::async, [&] { return f.md.partition_count("t", clock::now() + 10s, true); }));
  }
  f.answer_when_asked(1, 3);
  for (auto& c : callers) CHECK(c.get().value() == 3);
  CHECK(f.fetches == 1);
}

TEST_CASE("the broker's error reaches the waiting callers and is not cached") {
  metadata_fixture f;
  auto first = std::async(std::launch::async,
                          [&] { return f.md.partition_count("t", clock::now() + 10s, true); });
  while (f.fetches < 1) std::this_thread::yield();
  f.md.set_error("t", make_error(wire::ErrorCode::unknown_topic, "no topic t"));
  auto r = first.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == wire::ErrorCode::unknown_topic);
  auto again = std::async(std::launch::async,
                          [&] { return f.md.partition_count("t", clock::now() + 10s, true); });
  f.answer_when_asked(2, 1);  // created meanwhile: a new fetch finds it
  CHECK(again.get().value() == 1);
}

TEST_CASE("a wait past the deadline fails with timed_out naming the last retriable error") {
  metadata_fixture f;
  auto caller = std::async(std::launch::async,
                           [&] { return f.md.partition_count("t", clock::now() + 50ms, true); });
  while (f.fetches < 1) std::this_thread::yield();
  CHECK(f.md.note_retriable_error("t", make_error(client_errc::connection_lost, "refused")));
  auto r = caller.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::timed_out);
  CHECK(r.error().detail.find("refused") != std::string::npos);
  CHECK_FALSE(f.md.note_retriable_error("t", make_error(client_errc::connection_lost, "x")));
}

TEST_CASE("the io thread never waits: an unknown topic fails at once, its fetch under way") {
  metadata_fixture f;
  auto r = f.md.partition_count("t", clock::now() + 10s, false);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::timed_out);
  CHECK(f.fetches == 1);
}

TEST_CASE("a count older than max_age is fetched again while the old count serves") {
  metadata_fixture f(20ms);
  f.md.set("t", 2);
  CHECK(f.md.partition_count("t", clock::now(), true).value() == 2);
  CHECK(f.fetches == 0);
  // Let the count age. The refresh check reads the coarse clock (producer/coarse_clock.h),
  // which lags by about a tick, more when a tick comes late: ask until it sees the age.
  std::this_thread::sleep_for(20ms);
  const auto give_up = clock::now() + 2s;
  while (f.fetches == 0 && clock::now() < give_up) {
    CHECK(f.md.partition_count("t", clock::now(), true).value() == 2);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(f.fetches == 1);
  CHECK(f.md.partition_count("t", clock::now(), true).value() == 2);
  CHECK(f.fetches == 1);  // one refresh at a time
  f.md.set("t", 5);
  CHECK(f.md.partition_count("t", clock::now(), true).value() == 5);
}

TEST_CASE("invalidate makes the next call fetch again") {
  metadata_fixture f;
  f.md.set("t", 2);
  f.md.invalidate("t");
  auto caller = std::async(std::launch::async,
                           [&] { return f.md.partition_count("t", clock::now() + 10s, true); });
  f.answer_when_asked(1, 4);
  CHECK(caller.get().value() == 4);
}

TEST_CASE("close wakes waiting callers with client_closed") {
  metadata_fixture f;
  auto caller = std::async(std::launch::async,
                           [&] { return f.md.partition_count("t", clock::now() + 10s, true); });
  while (f.fetches < 1) std::this_thread::yield();
  f.md.close();
  auto r = caller.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::client_closed);
}

}  // namespace
}  // namespace sluice::producer_internal
