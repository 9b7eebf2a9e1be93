#include "admin/cli/histogram_plot.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace sluice::cli {

namespace {

latency_histogram sample_histogram() {
  latency_histogram h;
  for (int i = 0; i < 1000; ++i) h.record(std::chrono::microseconds(200 + i % 300));
  for (int i = 0; i < 10; ++i) h.record(std::chrono::milliseconds(30));
  return h;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("sluice-cli-plot-" + std::to_string(::getpid()) + "-" + name);
}

}  // namespace

TEST_CASE("the picture's format comes from the file extension") {
  CHECK(plot_device_for("lat.png") == "pngcairo");
  CHECK(plot_device_for("out/LAT.SVG") == "svgcairo");
  CHECK_FALSE(plot_device_for("lat.jpg"));
  CHECK_FALSE(plot_device_for("lat"));
}

TEST_CASE("coarse buckets are ten per decade of milliseconds and keep every sample") {
  const auto buckets = coarse_buckets(sample_histogram());
  std::uint64_t total = 0;
  for (const auto& b : buckets) {
    CHECK(b.log10_hi_ms - b.log10_lo_ms == doctest::Approx(0.1));
    total += b.count;
  }
  CHECK(total == 1010);
  // 200..499 us: log10(ms) in [-0.7, -0.3); 30 ms: [1.4, 1.5).
  CHECK(buckets.front().log10_lo_ms == doctest::Approx(-0.7));
  CHECK(buckets.back().log10_lo_ms == doctest::Approx(1.4));
  CHECK(buckets.back().count == 10);
}

TEST_CASE("a PNG and an SVG are written headless") {
  const auto png = scratch("h.png");
  const auto svg = scratch("h.svg");
  REQUIRE(plot_latency_histogram(sample_histogram(), png, "test").has_value());
  REQUIRE(plot_latency_histogram(sample_histogram(), svg, "test").has_value());
  CHECK(read_file(png).starts_with("\x89PNG"));
  CHECK(read_file(svg).find("<svg") != std::string::npos);
  std::filesystem::remove(png);
  std::filesystem::remove(svg);
}

TEST_CASE("plotting refuses an empty histogram, a bad extension and an unwritable file") {
  CHECK_FALSE(plot_latency_histogram(latency_histogram{}, scratch("e.png"), "t").has_value());
  CHECK_FALSE(plot_latency_histogram(sample_histogram(), scratch("h.gif"), "t").has_value());
  auto unwritable = plot_latency_histogram(sample_histogram(), "/nonexistent-dir/h.png", "t");
  REQUIRE_FALSE(unwritable.has_value());
  CHECK(unwritable.error().detail.find("/nonexistent-dir/h.png") != std::string::npos);
}

}  // namespace sluice::cli
