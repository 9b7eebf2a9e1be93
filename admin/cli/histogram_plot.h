#pragma once
// `sluice perf --plot FILE.png|FILE.svg`: the latency histogram as a picture, drawn with
// PLplot's cairo driver (headless): bars over log-scaled latency buckets (10 per decade), with
// p50, p99, p99.9 and the maximum marked.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/cli/latency_histogram.h"
#include "protocol/result.h"

namespace sluice::cli {

// The PLplot device for a file name: "pngcairo" for .png, "svgcairo" for .svg (any case);
// nullopt for anything else.
[[nodiscard]] std::optional<std::string> plot_device_for(const std::filesystem::path& file);

// One bar: latencies in [10^log10_lo_ms, 10^log10_hi_ms) milliseconds.
struct plot_bucket {
  double log10_lo_ms = 0;
  double log10_hi_ms = 0;
  std::uint64_t count = 0;
};

// The histogram's samples regrouped into `per_decade` buckets per power of ten, in increasing
// order, empty buckets left out. Latencies below 1 ns count as 1 ns.
[[nodiscard]] std::vector<plot_bucket> coarse_buckets(const latency_histogram& h,
                                                      int per_decade = 10);

// Writes the picture. Fails (errno or client_errc::invalid_argument) when the file cannot be
// written, its extension is not .png/.svg, the histogram is empty, or PLplot lacks the driver.
[[nodiscard]] result<void> plot_latency_histogram(const latency_histogram& h,
                                                  const std::filesystem::path& file,
                                                  std::string_view title);

}  // namespace sluice::cli
