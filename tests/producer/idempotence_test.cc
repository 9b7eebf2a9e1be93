#include "producer/idempotence.h"

#include <doctest/doctest.h>

#include <limits>

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"

namespace sluice::producer_internal {
namespace {

const topic_partition p0{"t", 0};
const topic_partition p1{"t", 1};

TEST_CASE("sequences start at 0 per partition and advance by the batch's record count") {
  producer_sequences s;
  s.set_producer(7, 2);
  CHECK(s.assign(p0, 10) == producer_stamp{7, 2, 0});
  CHECK(s.assign(p0, 5) == producer_stamp{7, 2, 10});
  CHECK(s.assign(p1, 3) == producer_stamp{7, 2, 0});
  CHECK(s.assign(p0, 1) == producer_stamp{7, 2, 15});
  CHECK(s.assign(p1, 1) == producer_stamp{7, 2, 3});
}

TEST_CASE("sequences wrap to 0 after INT32_MAX, as Kafka's") {
  constexpr auto max = std::numeric_limits<std::int32_t>::max();
  CHECK(add_to_sequence(0, 5) == 5);
  CHECK(add_to_sequence(max - 5, 5) == max);
  CHECK(add_to_sequence(max - 5, 6) == 0);
  CHECK(add_to_sequence(max, 1) == 0);
  CHECK(add_to_sequence(max - 1, 10) == 8);
}

TEST_CASE("take_back makes the next assignment start at the taken-back batch's sequence") {
  producer_sequences s;
  s.set_producer(1, 0);
  const auto a = s.assign(p0, 4);
  const auto b = s.assign(p0, 6);
  CHECK(s.take_back(p0, b));
  CHECK(s.assign(p0, 2).base_sequence == 4);
  CHECK(s.take_back(p0, a));  // with the batches after it: they are numbered again
  CHECK(s.assign(p0, 3).base_sequence == 0);
  CHECK(s.assign(p0, 1).base_sequence == 3);
}

TEST_CASE("take_back changes nothing once the partition moved to another producer id") {
  producer_sequences s;
  s.set_producer(1, 0);
  const auto a = s.assign(p0, 4);
  s.set_producer(2, 0);
  s.reset(p0);
  CHECK_FALSE(s.take_back(p0, a));
  CHECK(s.assign(p0, 1) == producer_stamp{2, 0, 0});
}

TEST_CASE(
    "a reset moves a partition to the current producer id at sequence 0; others keep theirs") {
  producer_sequences s;
  s.set_producer(1, 0);
  (void)s.assign(p0, 10);
  (void)s.assign(p1, 10);
  CHECK(s.uses_current_producer(p0));
  s.set_producer(2, 0);
  CHECK_FALSE(s.uses_current_producer(p0));
  s.reset(p0);
  CHECK(s.uses_current_producer(p0));
  CHECK(s.assign(p0, 3) == producer_stamp{2, 0, 0});
  CHECK(s.assign(p1, 3) == producer_stamp{1, 0, 10});  // still the old id, carrying on
}

TEST_CASE("a partition's first batch takes the current producer id") {
  producer_sequences s;
  s.set_producer(1, 0);
  s.set_producer(9, 1);
  CHECK(s.uses_current_producer(p1));
  CHECK(s.assign(p1, 1) == producer_stamp{9, 1, 0});
}

TEST_CASE("a stamped batch keeps a valid CRC and carries the stamp") {
  record_batch_builder builder({.codec = compression::zstd});
  builder.add(1000, as_bytes("k"), as_bytes("v"));
  builder.add(1001, std::nullopt, as_bytes("w"));
  auto bytes = builder.build();
  write_producer_stamp(bytes, producer_stamp{123456789012, 3, 42});
  auto view = record_batch_view::parse(bytes);
  REQUIRE(view.has_value());
  CHECK(view->validate().has_value());
  CHECK(view->header().producer_id == 123456789012);
  CHECK(view->header().producer_epoch == 3);
  CHECK(view->header().base_sequence == 42);
}

}  // namespace
}  // namespace sluice::producer_internal
