#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: exact below 128 ns, then 128
// buckets per power of two, so a reported percentile is within 0.8% of the true value (the
// upper edge of its bucket, never below the truth). Constant memory (~60 KiB) however many
// samples; the maximum is kept exactly.
//
// sluice-bench (perf/) uses it too.
//
// Not thread-safe: the owner serializes record() and the readers (perf_stats holds a mutex).

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>

namespace sluice::cli {

class latency_histogram {
 public:
  void record(std::chrono::nanoseconds latency);
  void add(const latency_histogram& other);
  void reset();

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::chrono::nanoseconds max() const { return std::chrono::nanoseconds(max_); }
  // The latency at percentile p (0 < p <= 100): at least p% of samples are at or below it.
  // Zero when nothing was recorded.
  [[nodiscard]] std::chrono::nanoseconds percentile(double p) const;

  // Every non-empty bucket in increasing order: [lower_ns, upper_ns] and its count.
  using bucket_visitor =
      std::function<void(std::uint64_t lower_ns, std::uint64_t upper_ns, std::uint64_t count)>;
  void for_each_bucket(const bucket_visitor& visit) const;

 private:
  static constexpr unsigned sub_bucket_bits = 7;  // 128 buckets per power of two
  static constexpr std::uint64_t sub_buckets = 1ULL << sub_bucket_bits;
  static constexpr std::size_t bucket_count = sub_buckets * (64 - sub_bucket_bits + 1);

  static std::size_t bucket_of(std::uint64_t ns);
  static std::uint64_t lower_edge(std::size_t bucket);
  static std::uint64_t upper_edge(std::size_t bucket);

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

// Nanoseconds as fractional microseconds, for reports.
[[nodiscard]] inline double to_us(std::chrono::nanoseconds ns) {
  return static_cast<double>(ns.count()) / 1e3;
}

// Nanoseconds as fractional milliseconds, for reports.
[[nodiscard]] inline double to_ms(std::chrono::nanoseconds ns) {
  return static_cast<double>(ns.count()) / 1e6;
}

}  // namespace sluice::cli
