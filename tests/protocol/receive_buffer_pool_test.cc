// receive_buffer_pool: a large buffer dropped by its last holder comes back for the next frame,
// on whichever thread it was dropped; the pool stays bounded and may go before its buffers.

#include "protocol/client/receive_buffer_pool.h"

#include <doctest/doctest.h>

#include <thread>

namespace sluice {

TEST_CASE("a large buffer is reused once its last holder drops it") {
  auto pool = std::make_shared<receive_buffer_pool>();
  auto first = pool->acquire(1 << 20);
  const std::byte* where = first.get();
  auto copy = first;  // records of an answer hold it too
  first.reset();
  CHECK(pool->pooled() == 0);  // still held
  copy.reset();
  CHECK(pool->pooled() == 1);
  auto second = pool->acquire((1 << 20) - 100);  // a slightly smaller answer fits in it
  CHECK(second.get() == where);
  CHECK(pool->pooled() == 0);
}

TEST_CASE("a buffer too small for the answer is not handed out") {
  auto pool = std::make_shared<receive_buffer_pool>();
  pool->acquire(100 * 1024).reset();
  REQUIRE(pool->pooled() == 1);
  auto big = pool->acquire(4 << 20);
  CHECK(pool->pooled() == 1);  // the small one stays for a small answer
  big.reset();
  CHECK(pool->pooled() == 2);
}

TEST_CASE("small buffers are not pooled, and the pool keeps at most max_pooled") {
  auto pool = std::make_shared<receive_buffer_pool>();
  pool->acquire(100).reset();
  CHECK(pool->pooled() == 0);
  std::vector<std::shared_ptr<std::byte[]>> held;
  for (std::size_t i = 0; i < receive_buffer_pool::max_pooled + 3; ++i) {
    held.push_back(pool->acquire(1 << 20));
  }
  held.clear();
  CHECK(pool->pooled() == receive_buffer_pool::max_pooled);
}

TEST_CASE("a buffer dropped on another thread, or after the pool is gone, is freed or reused") {
  auto pool = std::make_shared<receive_buffer_pool>();
  auto b = pool->acquire(1 << 20);
  std::thread([b = std::move(b)]() mutable { b.reset(); }).join();
  CHECK(pool->pooled() == 1);
  auto outliving = pool->acquire(1 << 20);
  pool.reset();
  outliving.reset();  // nothing to return to: freed (ASan/valgrind would see a leak or misuse)
}

}  // namespace sluice
