#include "admin/cli/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::cli {

std::size_t latency_histogram::bucket_of(std::uint64_t ns) {
  if (ns < sub_buckets) return static_cast<std::size_t>(ns);
  // ns = mantissa << shift with mantissa in [128, 256): one row of 128 buckets per shift.
  const auto shift = static_cast<unsigned>(std::bit_width(ns)) - sub_bucket_bits - 1;
  const std::uint64_t mantissa = ns >> shift;
  return static_cast<std::size_t>(sub_buckets * (shift + 1) + (mantissa - sub_buckets));
}

std::uint64_t latency_histogram::lower_edge(std::size_t bucket) {
  if (bucket < sub_buckets) return bucket;
  const std::uint64_t shift = bucket / sub_buckets - 1;
  const std::uint64_t mantissa = sub_buckets + bucket % sub_buckets;
  return mantissa << shift;
}

std::uint64_t latency_histogram::upper_edge(std::size_t bucket) {
  if (bucket < sub_buckets) return bucket;
  const std::uint64_t shift = bucket / sub_buckets - 1;
  const std::uint64_t mantissa = sub_buckets + bucket % sub_buckets;
  return ((mantissa + 1) << shift) - 1;
}

void latency_histogram::record(std::chrono::nanoseconds latency) {
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0));
  ++counts_[bucket_of(ns)];
  ++count_;
  max_ = std::max(max_, ns);
}

void latency_histogram::add(const latency_histogram& other) {
  for (std::size_t b = 0; b < bucket_count; ++b) counts_[b] += other.counts_[b];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

void latency_histogram::reset() {
  counts_.fill(0);
  count_ = 0;
  max_ = 0;
}

std::chrono::nanoseconds latency_histogram::percentile(double p) const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  const double wanted = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(upper_edge(b), max_)));
    }
  }
  return max();
}

void latency_histogram::for_each_bucket(const bucket_visitor& visit) const {
  for (std::size_t b = 0; b < bucket_count; ++b) {
    if (counts_[b] != 0) visit(lower_edge(b), upper_edge(b), counts_[b]);
  }
}

}  // namespace sluice::cli
