#include "consumer/fetch_buffer.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"
#include "tests/consumer/consumer_test_util.h"

namespace sluice::consumer_detail {
namespace {

using namespace std::chrono_literals;

const topic_partition tp0{"t", 0};
const topic_partition tp1{"t", 1};

// A chunk of records at offsets [from, to) of p; each record counts 1 byte.
fetched_chunk records(const std::shared_ptr<partition_view>& p, std::int64_t from,
                      std::int64_t to) {
  fetched_chunk c;
  c.partition = p;
  for (auto o = from; o < to; ++o) {
    consumer_record& r = c.records.emplace_back();
    r.topic = p->tp.topic;
    r.partition = p->tp.partition;
    r.offset = o;
  }
  c.next_position = to;
  c.bytes = static_cast<std::size_t>(to - from);
  return c;
}

}  // namespace

TEST_CASE("poll returns at most max_records, in order, and advances the position") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  buffer.push(records(p, 0, 6));  // more than one poll's worth: split
  auto first = buffer.poll(0ms, 4);
  REQUIRE(first);
  CHECK(test::offsets_of(*first) == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(buffer.position(tp0) == 4);
  auto second = buffer.poll(0ms, 4);
  REQUIRE(second);
  CHECK(test::offsets_of(*second) == std::vector<std::int64_t>{4, 5});
  CHECK(buffer.position(tp0) == 6);
  CHECK(buffer.bytes() == 0);
}

TEST_CASE("poll joins chunks that fit and leaves one that does not for the next poll") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  buffer.push(records(p, 0, 1));
  buffer.push(records(p, 1, 3));
  buffer.push(records(p, 3, 6));
  auto first = buffer.poll(0ms, 4);
  REQUIRE(first);
  CHECK(test::offsets_of(*first) == std::vector<std::int64_t>{0, 1, 2});
  CHECK(buffer.position(tp0) == 3);
  auto second = buffer.poll(0ms, 4);
  REQUIRE(second);
  CHECK(test::offsets_of(*second) == std::vector<std::int64_t>{3, 4, 5});
  CHECK(buffer.position(tp0) == 6);
}

TEST_CASE("chunks pushed together are polled in order, a small one whole") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  std::vector<fetched_chunk> chunks;
  chunks.push_back(records(p, 0, 2));
  chunks.push_back(records(p, 2, 5));
  buffer.reserve(10);
  buffer.push(std::move(chunks), 10);
  CHECK(buffer.bytes() == 5);
  auto first = buffer.poll(0ms, 2);  // the first chunk, handed over whole
  REQUIRE(first);
  CHECK(test::offsets_of(*first) == std::vector<std::int64_t>{0, 1});
  CHECK(buffer.position(tp0) == 2);
  auto second = buffer.poll(0ms, 10);
  REQUIRE(second);
  CHECK(test::offsets_of(*second) == std::vector<std::int64_t>{2, 3, 4});
  CHECK(buffer.position(tp0) == 5);
  CHECK(buffer.bytes() == 0);
}

TEST_CASE("poll waits up to the timeout and returns empty when nothing arrives") {
  fetch_buffer buffer(1000, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto r = buffer.poll(50ms, 10);
  REQUIRE(r);
  CHECK(r->empty());
  CHECK(std::chrono::steady_clock::now() - start >= 50ms);
}

TEST_CASE("a waiting poll returns as soon as records are pushed") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  std::thread pusher([&] { buffer.push(records(p, 0, 1)); });
  auto r = buffer.poll(10s, 10);
  pusher.join();
  REQUIRE(r);
  CHECK(r->size() == 1);
}

TEST_CASE("a poll meant to wait for ever waits for records, it does not return at once") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  auto polled = std::async(std::launch::async,
                           [&] { return buffer.poll(std::chrono::milliseconds::max(), 10); });
  CHECK(polled.wait_for(200ms) == std::future_status::timeout);
  buffer.push(records(p, 0, 1));
  REQUIRE(polled.wait_for(10s) == std::future_status::ready);
  auto r = polled.get();
  REQUIRE(r);
  CHECK(r->size() == 1);
}

TEST_CASE("a failure is delivered after the records before it, and moves the position") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  auto c = records(p, 0, 2);
  c.next_position = 2;
  c.failure = make_error(wire::ErrorCode::storage_error, "t-0 offline");
  buffer.push(std::move(c));
  buffer.push(records(buffer.add_partition(tp1), 0, 1));
  auto first = buffer.poll(0ms, 10);
  REQUIRE(first);
  CHECK(first->size() == 2);
  auto second = buffer.poll(0ms, 10);
  REQUIRE(!second);
  CHECK(second.error().code == wire::ErrorCode::storage_error);
  CHECK(buffer.position(tp0) == 2);
  auto third = buffer.poll(0ms, 10);
  REQUIRE(third);
  CHECK(third->size() == 1);
}

TEST_CASE("a seek drops the partition's buffered records and sets the position at once") {
  fetch_buffer buffer(1000, nullptr);
  auto p0 = buffer.add_partition(tp0);
  auto p1 = buffer.add_partition(tp1);
  buffer.push(records(p0, 0, 5));
  buffer.push(records(p1, 0, 5));
  buffer.seek(p0, 100);
  CHECK(buffer.position(tp0) == 100);
  CHECK(buffer.bytes() == 5);
  auto r = buffer.poll(0ms, 100);
  REQUIRE(r);
  CHECK(r->size() == 5);
  CHECK(r->front().partition == 1);
  CHECK(buffer.position(tp0) == 100);
}

TEST_CASE("an offset reset takes effect after the records already buffered") {
  fetch_buffer buffer(1000, nullptr);
  auto p = buffer.add_partition(tp0);
  buffer.reset(p, 10);  // nothing buffered: at once
  CHECK(buffer.position(tp0) == 10);
  buffer.push(records(p, 10, 12));
  buffer.reset(p, 50);
  CHECK(buffer.position(tp0) == 10);
  auto r = buffer.poll(0ms, 100);
  REQUIRE(r);
  CHECK(r->size() == 2);
  CHECK(buffer.position(tp0) == 50);
}

TEST_CASE("polling frees room and tells the io thread once after it found the buffer full") {
  std::atomic<int> calls = 0;
  fetch_buffer buffer(4, [&] { ++calls; });
  auto p = buffer.add_partition(tp0);
  buffer.push(records(p, 0, 2));
  CHECK(buffer.has_room());
  buffer.push(records(p, 2, 4));
  CHECK(!buffer.has_room());
  REQUIRE(buffer.poll(0ms, 2));
  CHECK(calls == 1);
  REQUIRE(buffer.poll(0ms, 2));
  CHECK(calls == 1);
}

TEST_CASE("a reservation counts until its chunk replaces it") {
  fetch_buffer buffer(100, nullptr);
  auto p = buffer.add_partition(tp0);
  buffer.reserve(60);
  CHECK(buffer.bytes() == 60);
  buffer.push(records(p, 0, 5), 60);
  CHECK(buffer.bytes() == 5);
  buffer.reserve(10);
  buffer.release(10);
  CHECK(buffer.bytes() == 5);
}

TEST_CASE("removing a partition drops its records and its position") {
  fetch_buffer buffer(100, nullptr);
  auto p = buffer.add_partition(tp0);
  buffer.push(records(p, 0, 5));
  buffer.remove_partition(p);
  CHECK(!buffer.position(tp0));
  CHECK(buffer.bytes() == 0);
  auto r = buffer.poll(0ms, 10);
  REQUIRE(r);
  CHECK(r->empty());
}

TEST_CASE("closing wakes a waiting poll with the reason") {
  fetch_buffer buffer(100, nullptr);
  std::thread closer([&] { buffer.close(make_error(client_errc::client_closed, "closed")); });
  auto r = buffer.poll(10s, 10);
  closer.join();
  REQUIRE(!r);
  CHECK(r.error().code == client_errc::client_closed);
}

}  // namespace sluice::consumer_detail
