#include "broker/producer_state.h"

#include <doctest/doctest.h>

#include "broker/errc.h"
#include "tests/result_printer.h"

using namespace sluice;
using verdict = producer_state_table::verdict;

namespace {

producer_batch_ids batch(std::int32_t first, std::int32_t count, std::int16_t epoch = 0,
                         std::int64_t pid = 42) {
  return {pid, epoch, first, first + count - 1};
}

// Submits and stores a batch at `base`, as an acknowledged append would.
void store(producer_state_table& t, const producer_batch_ids& ids, std::int64_t base) {
  REQUIRE(t.check(ids));
  REQUIRE(t.check(ids)->what == verdict::kind::append);
  t.on_submitted(ids, offset{base});
  t.on_stored(ids, offset{base});
}

}  // namespace

TEST_CASE("batches without a producer id are always appended") {
  producer_state_table t;
  auto v = t.check({-1, -1, -1, -1});
  REQUIRE(v);
  CHECK(v->what == verdict::kind::append);
}

TEST_CASE("consecutive sequences are appended, a retry of a stored batch is a duplicate") {
  producer_state_table t;
  store(t, batch(0, 10), 100);
  store(t, batch(10, 5), 110);
  auto retry = t.check(batch(0, 10));
  REQUIRE(retry);
  CHECK(retry->what == verdict::kind::duplicate_stored);
  CHECK(retry->stored_base == offset{100});
  auto retry2 = t.check(batch(10, 5));
  REQUIRE(retry2);
  CHECK(retry2->stored_base == offset{110});
}

TEST_CASE("a gap in the sequence is refused with expected and received values") {
  producer_state_table t;
  store(t, batch(0, 10), 0);
  auto gap = t.check(batch(11, 1));
  REQUIRE_FALSE(gap);
  CHECK(gap.error().code == broker_errc::out_of_order_sequence);
  CHECK(gap.error().detail.find("expected 10") != std::string::npos);
}

TEST_CASE("a retry of a batch still in flight is recognised as such") {
  producer_state_table t;
  auto b = batch(0, 3);
  REQUIRE(t.check(b)->what == verdict::kind::append);
  t.on_submitted(b, offset{0});
  CHECK(t.check(b)->what == verdict::kind::duplicate_in_flight);
  // The next batch may be pipelined behind it.
  CHECK(t.check(batch(3, 2))->what == verdict::kind::append);
}

TEST_CASE("a failed append is forgotten so its retry is appended") {
  producer_state_table t;
  auto b = batch(0, 3);
  const auto attempt = t.on_submitted(b, offset{0});
  t.on_failed(b, attempt);
  CHECK(t.check(b)->what == verdict::kind::append);
}

TEST_CASE("batches the log cut away are forgotten before their failures arrive") {
  producer_state_table t;
  const auto first = t.on_submitted(batch(0, 3), offset{0});
  t.on_submitted(batch(3, 3), offset{3});
  // A write error cut the log back to offset 3: the second batch is not in it.
  t.forget_unwritten(42, offset{3});
  CHECK(t.check(batch(6, 3)).error().code == broker_errc::out_of_order_sequence);
  // Its retry goes in; the late failure of the first attempt does not forget the retry.
  const auto retry = batch(3, 3);
  REQUIRE(t.check(retry)->what == verdict::kind::append);
  t.on_submitted(retry, offset{3});
  t.on_failed(retry, first + 1);
  CHECK(t.check(retry)->what == verdict::kind::duplicate_in_flight);
}

TEST_CASE("an older epoch is fenced; a newer epoch must start at sequence 0") {
  producer_state_table t;
  store(t, batch(0, 1, 2), 0);
  CHECK(t.check(batch(1, 1, 1)).error().code == broker_errc::invalid_producer_epoch);
  CHECK(t.check(batch(5, 1, 3)).error().code == broker_errc::out_of_order_sequence);
  CHECK(t.check(batch(0, 1, 3))->what == verdict::kind::append);
}

TEST_CASE("only the last remembered_batches batches are remembered") {
  producer_state_table t;
  const int n = static_cast<int>(producer_state_table::remembered_batches) + 2;
  for (int i = 0; i < n; ++i) store(t, batch(i, 1), i);
  // Batch 0 fell out of memory: its retry is now a sequence error, not a silent duplicate.
  CHECK_FALSE(t.check(batch(0, 1)));
  CHECK(t.check(batch(2, 1))->what == verdict::kind::duplicate_stored);
}

TEST_CASE("state restored from log headers recognises retries after a restart") {
  producer_state_table t;
  batch_header h;
  h.base_offset = offset{500};
  h.producer_id = 42;
  h.producer_epoch = 0;
  h.base_sequence = 20;
  h.last_offset_delta = 4;
  t.restore(h);
  auto retry = t.check(batch(20, 5));
  REQUIRE(retry);
  CHECK(retry->what == verdict::kind::duplicate_stored);
  CHECK(retry->stored_base == offset{500});
  CHECK(t.check(batch(25, 1))->what == verdict::kind::append);
}

TEST_CASE("sequences wrap from INT32_MAX to 0") {
  producer_state_table t;
  store(t, {42, 0, INT32_MAX - 1, INT32_MAX}, 0);
  CHECK(t.check({42, 0, 0, 9})->what == verdict::kind::append);
}

TEST_CASE("what a table remembers restores into another that answers retries the same way") {
  producer_state_table t;
  const int n = static_cast<int>(producer_state_table::remembered_batches) + 2;
  for (int i = 0; i < n; ++i) store(t, batch(i * 10, 10), 100 + i * 10);
  store(t, batch(0, 3, 0, 77), 500);
  const auto remembered = t.remembered();
  REQUIRE(remembered.size() == 2);
  CHECK(remembered[0].producer_id == 42);
  CHECK(remembered[0].batches.size() == producer_state_table::remembered_batches);
  const int last = (n - 1) * 10;
  CHECK(remembered[0].batches.back() ==
        producer_state_table::stored_batch{last, last + 9, offset{100 + last}});

  producer_state_table copy;
  for (const auto& p : remembered) copy.restore(p);
  CHECK(copy.remembered() == remembered);
  auto retry = copy.check(batch(last, 10));
  REQUIRE(retry);
  CHECK(retry->what == verdict::kind::duplicate_stored);
  CHECK(retry->stored_base == offset{100 + last});
  CHECK(copy.check(batch(last + 10, 5))->what == verdict::kind::append);
  CHECK(copy.check(batch(last + 20, 5)).error().code == broker_errc::out_of_order_sequence);
}

TEST_CASE("producers whose newest batch is older than the cutoff expire, unless in flight") {
  producer_state_table t;
  t.restore(
      {.producer_id = 1, .epoch = 0, .last_timestamp = 1'000, .batches = {{0, 9, offset{0}}}});
  t.restore(
      {.producer_id = 2, .epoch = 0, .last_timestamp = 5'000, .batches = {{0, 9, offset{10}}}});
  t.restore(
      {.producer_id = 3, .epoch = 0, .last_timestamp = 1'000, .batches = {{0, 9, offset{20}}}});
  t.on_submitted(batch(10, 5, 0, 3), offset{25});  // producer 3 has a batch in flight
  store(t, batch(0, 4, 0, 4), 30);                 // producer 4: stored live, its age not known
  t.expire_older_than(2'000);
  std::vector<std::int64_t> left;
  for (const auto& p : t.remembered()) left.push_back(p.producer_id);
  CHECK(left == std::vector<std::int64_t>{2, 3, 4});
}

TEST_CASE("a table rebuilt from the log keeps the dates the live one knew its producers by") {
  // Live: producer 1 stored a batch at broker time 9 000 (its records say 1 000).
  producer_state_table live;
  live.on_submitted(batch(0, 10, 0, 1), offset{0});
  live.on_stored(batch(0, 10, 0, 1), offset{0}, 9'000);
  // Rebuilt from the log, it is dated by its records' timestamps.
  producer_state_table rebuilt;
  rebuilt.restore(
      {.producer_id = 1, .epoch = 0, .last_timestamp = 1'000, .batches = {{0, 9, offset{0}}}});
  rebuilt.adopt_in_flight(live);
  rebuilt.expire_older_than(5'000);
  REQUIRE(rebuilt.remembered().size() == 1);
  CHECK(rebuilt.remembered().front().last_timestamp == 9'000);
}

TEST_CASE("retention's snapshot counts batches below the new log start still in flight as stored") {
  producer_state_table t;
  store(t, batch(0, 10), 100);
  t.on_submitted(batch(10, 5), offset{110});
  t.on_submitted(batch(15, 5), offset{115});
  // Only acknowledged offsets lie below a new log start: 110's completion is queued, 115 may
  // still be written.
  auto below_115 = t.remembered_acknowledged(offset{115});
  REQUIRE(below_115.size() == 1);
  CHECK(below_115[0].batches == std::vector<producer_state_table::stored_batch>{
                                    {0, 9, offset{100}}, {10, 14, offset{110}}});
  REQUIRE(t.remembered(offset{115}).size() == 1);
  CHECK(t.remembered(offset{115})[0].batches.size() == 1);

  producer_state_table rebuilt;
  rebuilt.restore(below_115[0]);
  auto retry = rebuilt.check(batch(10, 5));
  REQUIRE(retry);
  CHECK(retry->what == verdict::kind::duplicate_stored);
  CHECK(retry->stored_base == offset{110});
}

TEST_CASE("a producer's snapshot keeps its newest remembered batches, in flight ones included") {
  producer_state_table t;
  const auto window = static_cast<std::int32_t>(producer_state_table::remembered_batches);
  for (std::int32_t i = 0; i < window; ++i) store(t, batch(i * 2, 2), 100 + i * 2);
  t.on_submitted(batch(window * 2, 2), offset{100 + window * 2});
  auto snap = t.remembered_acknowledged(offset{1000});
  REQUIRE(snap.size() == 1);
  REQUIRE(snap[0].batches.size() == producer_state_table::remembered_batches);
  CHECK(snap[0].batches.front().first_sequence == 2);
  CHECK(snap[0].batches.back().first_sequence == window * 2);
}
