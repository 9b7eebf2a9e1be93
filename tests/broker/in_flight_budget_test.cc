// The broker-wide in-flight budget: bytes taken and given back, waiters granted in order and
// never overtaken, cancelled waits, and grants from another thread.

#include "broker/server/in_flight_budget.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using sluice::in_flight_budget;

TEST_CASE("bytes within the limit are taken at once; past it, the caller must wait") {
  in_flight_budget b(100);
  CHECK(b.try_take(60));
  CHECK(b.try_take(40));
  CHECK_FALSE(b.try_take(1));
  CHECK(b.used() == 100);
  b.give_back(40);
  CHECK(b.try_take(30));
  CHECK(b.used() == 90);
}

TEST_CASE("a request larger than the whole budget is admitted alone, not never") {
  in_flight_budget b(100);
  CHECK(b.try_take(500));
  CHECK_FALSE(b.try_take(1));
  b.give_back(500);
  CHECK(b.used() == 0);
}

TEST_CASE("waiters are granted first come, first served, and newcomers do not overtake") {
  in_flight_budget b(100);
  REQUIRE(b.try_take(100));
  std::vector<int> order;
  auto t1 = b.enqueue(80, [&] { order.push_back(1); });
  auto t2 = b.enqueue(10, [&] { order.push_back(2); });
  (void)t1;
  (void)t2;
  CHECK(b.waiting() == 2);
  // 50 bytes back: the small waiter would fit, but the large one is ahead of it.
  b.give_back(50);
  CHECK(order.empty());
  CHECK_FALSE(b.try_take(5));  // nor may a newcomer take them
  b.give_back(50);
  CHECK(order == std::vector<int>{1, 2});
  CHECK(b.used() == 90);
  CHECK(b.waiting() == 0);
}

TEST_CASE("a cancelled wait holds nothing; one granted already tells the caller so") {
  in_flight_budget b(100);
  REQUIRE(b.try_take(100));
  bool granted = false;
  auto t = b.enqueue(60, [&] { granted = true; });
  CHECK(b.cancel(t));
  b.give_back(100);
  CHECK_FALSE(granted);
  CHECK(b.used() == 0);

  REQUIRE(b.try_take(100));
  auto t2 = b.enqueue(50, [&] { granted = true; });
  b.give_back(50);
  CHECK(granted);
  CHECK_FALSE(b.cancel(t2));  // the 50 bytes are the caller's to give back
  CHECK(b.used() == 100);
}

TEST_CASE("cancelling the head lets the waiters behind it through") {
  in_flight_budget b(100);
  REQUIRE(b.try_take(50));
  bool small = false;
  auto big = b.enqueue(90, [] {});
  auto t = b.enqueue(20, [&] { small = true; });
  (void)t;
  CHECK_FALSE(small);
  CHECK(b.cancel(big));
  CHECK(small);
  CHECK(b.used() == 70);
}

TEST_CASE("force_take goes past the limit and makes new requests wait") {
  in_flight_budget b(100);
  b.force_take(150);
  CHECK_FALSE(b.try_take(1));
  b.give_back(150);
  CHECK(b.try_take(1));
}

TEST_CASE("bytes given back on other threads grant every waiter exactly once") {
  in_flight_budget b(1000);
  constexpr int threads = 4;
  constexpr int rounds = 2000;
  std::atomic<int> grants{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        if (b.try_take(300)) {
          b.give_back(300);
          continue;
        }
        std::atomic<bool> mine{false};
        auto ticket = b.enqueue(300, [&] {
          mine = true;
          ++grants;
        });
        if (!b.cancel(ticket)) {
          while (!mine) std::this_thread::yield();
          b.give_back(300);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(b.used() == 0);
  CHECK(b.waiting() == 0);
}
