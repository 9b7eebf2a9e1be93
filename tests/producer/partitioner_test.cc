#include "producer/partitioner.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "producer/producer.h"

namespace sluice {
namespace {

using producer_internal::sticky_partitioner;

TEST_CASE("a key's partition is murmur2 with the sign bit cleared, modulo the partition count") {
  // murmur2("21") = -973932308; Kafka's toPositive gives 1173551340 (abs() would give another).
  CHECK(partition_for_key("21", 7) == 1173551340 % 7);
  CHECK(partition_for_key("21", 100) == 40);
  CHECK(partition_for_key("foobar", 10) == 6);  // 1357151166 % 10
  CHECK(partition_for_key("abc", 7) == 4);      // 479470107 % 7
  CHECK(partition_for_key("anything", 1) == 0);
}

TEST_CASE("every key maps into [0, partitions) and the same key always to the same partition") {
  for (int i = 0; i < 1000; ++i) {
    const auto key = "key-" + std::to_string(i);
    const auto p = partition_for_key(key, 13);
    CHECK(p >= 0);
    CHECK(p < 13);
    CHECK(partition_for_key(key, 13) == p);
  }
}

TEST_CASE("keys spread over all partitions") {
  std::set<std::int32_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(partition_for_key("user-" + std::to_string(i), 8));
  CHECK(seen.size() == 8);
}

TEST_CASE("sticky: null-key records stay on a partition while its batch is open") {
  sticky_partitioner s(5);
  const auto first = s.choose(4, false);
  CHECK(first == 1);  // 5 % 4
  CHECK(s.choose(4, true) == first);
  CHECK(s.choose(4, true) == first);
}

TEST_CASE("sticky: a closed batch moves null-key records to the next partition, round-robin") {
  sticky_partitioner s(0);
  CHECK(s.choose(3, false) == 0);
  CHECK(s.choose(3, false) == 1);
  CHECK(s.choose(3, false) == 2);
  CHECK(s.choose(3, false) == 0);
}

TEST_CASE("sticky: a shrunk partition count never yields a partition out of range") {
  sticky_partitioner s(0);
  for (int i = 0; i < 8; ++i) (void)s.choose(8, false);  // current is now 7
  CHECK(s.current() == 7);
  const auto p = s.choose(2, true);
  CHECK(p >= 0);
  CHECK(p < 2);
}

}  // namespace
}  // namespace sluice
