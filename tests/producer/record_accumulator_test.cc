#include "producer/record_accumulator.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "protocol/client/client_errc.h"

namespace sluice::producer_internal {
namespace {

using namespace std::chrono_literals;

struct fixture {
  std::atomic<int> wakes{0};
  record_accumulator acc;
  std::vector<result<record_metadata>> outcomes;

  explicit fixture(std::size_t batch_size = 1024, std::size_t memory = 1 << 20,
                   std::chrono::milliseconds linger = 10ms)
      : acc({.batch_size = batch_size,
             .buffer_memory = memory,
             .linger = linger,
             .batch_options = {},
             .wake = [this] { ++wakes; }}) {}

  // Appends a record of `value_size` bytes; returns its accounted size.
  std::size_t add(std::int32_t partition, std::size_t value_size, std::string topic = "t",
                  clock::time_point deadline = clock::now() + 10s) {
    producer_record r{.topic = topic, .value = std::string(value_size, 'v')};
    const auto size = record_size_upper_bound(r);
    auto ok = acc.append(
        topic, partition, 4, r, 1, size,
        [this](result<record_metadata> m) { outcomes.push_back(std::move(m)); }, deadline, true);
    REQUIRE(ok.has_value());
    return size;
  }

  std::vector<batch_ptr> drain(clock::time_point now, std::size_t max_bytes = 1 << 20) {
    return acc.drain(
        now, [](const std::string&, std::int32_t) { return true; }, max_bytes);
  }

  // What the sender does when a batch is done.
  void finish(const batch_ptr& b) {
    acc.release_memory(b->memory_bytes());
    b->complete(0);
    acc.batch_done(b->id());
  }
};

TEST_CASE("a batch waits for linger, then is drained") {
  fixture f(1024, 1 << 20, 50ms);
  const auto before = clock::now();
  f.add(0, 10);
  f.add(0, 10);
  CHECK(f.drain(before).empty());
  auto ready = f.acc.next_ready(before, [](const std::string&, std::int32_t) { return true; });
  REQUIRE(ready.has_value());
  CHECK(*ready >= before + 50ms);
  auto batches = f.drain(clock::now() + 50ms);
  REQUIRE(batches.size() == 1);
  CHECK(batches[0]->record_count() == 2);
  CHECK(f.acc.batches_waiting() == 0);
}

TEST_CASE("a full batch is ready at once, whatever the linger") {
  fixture f(300, 1 << 20, 1h);
  while (f.acc.batches_waiting() < 2) f.add(1, 50);
  auto batches = f.drain(clock::now());
  REQUIRE(batches.size() == 1);  // the full one; the new open batch lingers
  CHECK(batches[0]->estimated_bytes() <= 300);
  CHECK(batches[0]->tp().partition == 1);
  CHECK(f.acc.batches_waiting() == 1);
}

TEST_CASE("a record larger than batch_size gets a batch of its own") {
  fixture f(200, 1 << 20, 1h);
  f.add(0, 10);
  f.add(0, 500);
  f.add(0, 10);
  CHECK(f.acc.batches_waiting() == 3);
  auto first = f.drain(clock::now());
  auto second = f.drain(clock::now());
  REQUIRE(first.size() == 1);
  REQUIRE(second.size() == 1);
  CHECK(first[0]->record_count() == 1);
  CHECK(second[0]->record_count() == 1);
  CHECK(second[0]->estimated_bytes() > 500);
}

TEST_CASE("a partition's batches drain oldest first, one per partition per drain") {
  fixture f(200, 1 << 20, 0ms);
  for (int i = 0; i < 12; ++i) f.add(0, 50);
  f.add(2, 10);
  std::uint64_t last_id = 0;
  int drains = 0;
  for (auto batches = f.drain(clock::now()); !batches.empty(); batches = f.drain(clock::now())) {
    int of_partition_0 = 0;
    for (const auto& b : batches) {
      if (b->tp().partition != 0) continue;
      ++of_partition_0;
      CHECK(b->id() > last_id);
      last_id = b->id();
    }
    CHECK(of_partition_0 <= 1);
    ++drains;
  }
  CHECK(drains >= 4);
}

TEST_CASE("drain skips partitions the sender holds back and stops at max_bytes") {
  fixture f(1024, 1 << 20, 0ms);
  f.add(0, 100);
  f.add(1, 100);
  f.add(2, 100);
  auto held = f.acc.drain(
      clock::now(), [](const std::string&, std::int32_t p) { return p != 1; }, 1 << 20);
  CHECK(held.size() == 2);
  for (const auto& b : held) CHECK(b->tp().partition != 1);
  auto one = f.drain(clock::now(), 1);  // at least one batch, even above max_bytes
  CHECK(one.size() == 1);
}

TEST_CASE("records without a partition go only to partitions the topic has now") {
  fixture f(200);  // small batches: the sticky partition moves on often
  producer_record r{.topic = "t", .value = std::string(50, 'v')};
  const auto size = record_size_upper_bound(r);
  const auto send = [&](std::int32_t partition_count) {
    REQUIRE(f.acc
                .append("t", record_accumulator::any_partition, partition_count, r, 1, size,
                        nullptr, clock::now() + 10s, true)
                .has_value());
  };
  for (int i = 0; i < 50; ++i) send(8);
  // Everything sent so far goes (a drain takes one batch per partition).
  for (auto b = f.drain(clock::now() + 1h); !b.empty(); b = f.drain(clock::now() + 1h)) {
    for (const auto& batch : b) f.finish(batch);
  }
  // Deleted and created again with 2 partitions: the accumulator still has 8 slots.
  for (int i = 0; i < 200; ++i) send(2);
  int batches = 0;
  for (auto b = f.drain(clock::now() + 1h); !b.empty(); b = f.drain(clock::now() + 1h)) {
    for (const auto& batch : b) {
      CHECK(batch->tp().partition < 2);
      ++batches;
    }
  }
  CHECK(batches > 2);
}

TEST_CASE("append fails with buffer_full when memory stays taken past the deadline") {
  fixture f(1024, 1000, 0ms);
  f.add(0, 800);
  producer_record r{.topic = "t", .value = std::string(300, 'v')};
  const auto size = record_size_upper_bound(r);
  auto now_only = f.acc.append("t", 0, 4, r, 1, size, nullptr, clock::now() + 1h, false);
  REQUIRE_FALSE(now_only.has_value());
  CHECK(now_only.error().code == client_errc::buffer_full);
  auto late = f.acc.append("t", 0, 4, r, 1, size, nullptr, clock::now() + 20ms, true);
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().code == client_errc::buffer_full);
}

TEST_CASE("a blocked append proceeds once a finished batch returns its memory") {
  fixture f(1024, 1000, 0ms);
  const auto used = f.add(0, 800);
  auto blocked = std::async(std::launch::async, [&] {
    producer_record r{.topic = "t", .value = std::string(300, 'v')};
    return f.acc.append("t", 1, 4, r, 1, record_size_upper_bound(r), nullptr, clock::now() + 1h,
                        true);
  });
  while (f.acc.blocked_callers() == 0) std::this_thread::yield();
  CHECK(f.acc.buffered_bytes() == used);
  auto batches = f.drain(clock::now());
  REQUIRE(batches.size() == 1);
  f.finish(batches[0]);
  CHECK(blocked.get().has_value());
  CHECK(f.acc.buffered_bytes() > 300);
  CHECK(f.acc.buffered_bytes() < used);
}

TEST_CASE("flush makes lingering batches ready and returns when they are done") {
  fixture f(1024, 1 << 20, 1h);
  f.add(0, 10);
  f.add(1, 10);
  const int wakes_before = f.wakes;
  auto flushed = std::async(std::launch::async, [&] { return f.acc.flush(clock::now() + 1h); });
  while (f.acc.blocked_callers() == 0) std::this_thread::yield();
  CHECK(f.wakes > wakes_before);
  auto batches = f.drain(clock::now());
  REQUIRE(batches.size() == 2);
  f.finish(batches[0]);
  CHECK(f.acc.blocked_callers() == 1);  // one batch still pending
  f.finish(batches[1]);
  CHECK(flushed.get().has_value());
  CHECK(f.outcomes.size() == 2);
}

TEST_CASE("flush waits for every part of a split batch") {
  fixture f(1024, 1 << 20, 1h);
  f.add(0, 10);
  f.add(0, 10);
  auto flushed = std::async(std::launch::async, [&] { return f.acc.flush(clock::now() + 1h); });
  while (f.acc.blocked_callers() == 0) std::this_thread::yield();
  auto batches = f.drain(clock::now());
  REQUIRE(batches.size() == 1);
  batches[0]->seal(std::nullopt);
  auto parts = batches[0]->split();
  REQUIRE(parts.size() == 2);
  f.acc.batch_split(batches[0]->id(), parts.size());
  f.finish(parts[0]);
  CHECK(f.acc.blocked_callers() == 1);  // the other part is still pending
  f.finish(parts[1]);
  CHECK(flushed.get().has_value());
  CHECK(f.outcomes.size() == 2);
  CHECK(f.acc.buffered_bytes() == 0);
}

TEST_CASE("flush fails with timed_out while a batch has no outcome") {
  fixture f(1024, 1 << 20, 1h);
  f.add(0, 10);
  auto r = f.acc.flush(clock::now() + 10ms);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::timed_out);
}

TEST_CASE("flush does not wait for batches created after it started") {
  fixture f(1024, 1 << 20, 1h);
  CHECK(f.acc.flush(clock::now() + 1s).has_value());  // nothing pending
}

TEST_CASE("null-key records fill one partition's batch, then move to the next") {
  fixture f(300, 1 << 20, 1h);
  std::set<std::int32_t> used;
  // 61 header bytes + 2 records of 86 bytes fit in 300; a third record does not.
  for (int i = 0; i < 2; ++i) f.add(record_accumulator::any_partition, 50);
  REQUIRE(f.acc.batches_waiting() == 1);
  while (f.acc.batches_waiting() < 3) f.add(record_accumulator::any_partition, 50);
  auto batches = f.drain(clock::now() + 2h);
  REQUIRE(batches.size() == 3);
  for (const auto& b : batches) used.insert(b->tp().partition);
  CHECK(used.size() == 3);  // each batch on its own partition
}

TEST_CASE("expire takes the batches created before the cutoff") {
  fixture f(1024, 1 << 20, 1h);
  f.add(0, 10);
  const auto cutoff = clock::now();
  f.add(1, 10);  // created after the cutoff... unless the clock did not move
  auto oldest = f.acc.oldest_created();
  REQUIRE(oldest.has_value());
  CHECK(*oldest <= cutoff);
  auto expired = f.acc.expire(cutoff);
  REQUIRE(!expired.empty());
  CHECK(expired[0]->tp().partition == 0);
  auto rest = f.acc.expire(clock::now());
  CHECK(expired.size() + rest.size() == 2);
  CHECK(f.acc.batches_waiting() == 0);
}

TEST_CASE("after close, appends fail with client_closed and every batch was handed back") {
  fixture f(1024, 1 << 20, 1h);
  f.add(0, 10);
  f.add(3, 10);
  auto all = f.acc.close();
  CHECK(all.size() == 2);
  producer_record r{.topic = "t", .value = "x"};
  auto late =
      f.acc.append("t", 0, 4, r, 1, record_size_upper_bound(r), nullptr, clock::now() + 1s, true);
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().code == client_errc::client_closed);
}

TEST_CASE("a blocked append wakes with client_closed when the producer closes") {
  fixture f(1024, 1000, 0ms);
  f.add(0, 800);
  auto blocked = std::async(std::launch::async, [&] {
    producer_record r{.topic = "t", .value = std::string(300, 'v')};
    return f.acc.append("t", 1, 4, r, 1, record_size_upper_bound(r), nullptr, clock::now() + 1h,
                        true);
  });
  while (f.acc.blocked_callers() == 0) std::this_thread::yield();
  (void)f.acc.close();
  auto r = blocked.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::client_closed);
}

TEST_CASE("the sender is woken per batch, not per record") {
  fixture f(100'000, 1 << 20, 1h);
  for (int i = 0; i < 100; ++i) f.add(0, 10);
  CHECK(f.wakes == 1);
}

}  // namespace
}  // namespace sluice::producer_internal
