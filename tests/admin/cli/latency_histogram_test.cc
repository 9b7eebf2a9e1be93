#include "admin/cli/latency_histogram.h"

#include <doctest/doctest.h>

#include <chrono>

namespace sluice::cli {

using std::chrono::nanoseconds;

TEST_CASE("an empty histogram reports zero") {
  latency_histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(99) == nanoseconds(0));
  CHECK(h.max() == nanoseconds(0));
}

TEST_CASE("small latencies are exact") {
  latency_histogram h;
  for (int i = 1; i <= 100; ++i) h.record(nanoseconds(i));
  CHECK(h.percentile(50) == nanoseconds(50));
  CHECK(h.percentile(99) == nanoseconds(99));
  CHECK(h.percentile(100) == nanoseconds(100));
}

TEST_CASE("a percentile is within 0.8% above the true value, never below") {
  latency_histogram h;
  for (std::int64_t us = 1; us <= 10'000; ++us) h.record(std::chrono::microseconds(us));
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    CAPTURE(p);
    const double truth = p / 100.0 * 10'000 * 1000;
    const auto got = static_cast<double>(h.percentile(p).count());
    CHECK(got >= truth);
    CHECK(got <= truth * 1.008);
  }
  CHECK(h.max() == std::chrono::microseconds(10'000));
}

TEST_CASE("negative latencies count as zero") {
  latency_histogram h;
  h.record(nanoseconds(-5));
  CHECK(h.count() == 1);
  CHECK(h.max() == nanoseconds(0));
}

TEST_CASE("add merges counts and maxima; reset empties") {
  latency_histogram a;
  latency_histogram b;
  a.record(std::chrono::milliseconds(1));
  b.record(std::chrono::milliseconds(5));
  b.record(std::chrono::milliseconds(7));
  a.add(b);
  CHECK(a.count() == 3);
  CHECK(a.max() == std::chrono::milliseconds(7));
  a.reset();
  CHECK(a.count() == 0);
  CHECK(a.percentile(50) == nanoseconds(0));
}

TEST_CASE("buckets are visited in order, cover their samples and sum to the count") {
  latency_histogram h;
  for (std::int64_t ns : {3, 300, 300, 40'000, 5'000'000}) h.record(nanoseconds(ns));
  std::uint64_t total = 0;
  std::uint64_t last_upper = 0;
  h.for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t count) {
    CHECK(lo <= hi);
    CHECK(lo >= last_upper);
    last_upper = hi;
    total += count;
  });
  CHECK(total == 5);
  CHECK(last_upper >= 5'000'000);
}

}  // namespace sluice::cli
