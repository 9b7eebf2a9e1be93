#include "admin/cli/histogram_plot.h"

#include <fmt/format.h>
#include <plplot.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <map>

#include "protocol/client/client_errc.h"

namespace sluice::cli {

namespace {

constexpr int width_px = 1000;
constexpr int height_px = 600;

struct marker {
  const char* name;
  double ms;
};

bool driver_available(const std::string& device) {
  std::array<const char*, 128> menus{};
  std::array<const char*, 128> names{};
  const char** menus_ptr = menus.data();
  const char** names_ptr = names.data();
  int n = static_cast<int>(names.size());
  plgDevs(&menus_ptr, &names_ptr, &n);
  return std::any_of(names.begin(), names.begin() + n,
                     [&](const char* name) { return name != nullptr && device == name; });
}

// PLplot ends the process on a fatal error; this makes its exit status ours for "failed".
int plplot_exit_status(const char* /*message*/) {
  return 1;
}

// PLplot draws with colour map 0; white background, black axes, blue bars, red markers.
void set_colours() {
  plscolbg(255, 255, 255);
  plscol0(1, 0, 0, 0);
  plscol0(2, 70, 130, 180);
  plscol0(3, 200, 30, 30);
}

void draw_bars(const std::vector<plot_bucket>& buckets) {
  plcol0(2);
  for (const auto& b : buckets) {
    const auto y = static_cast<PLFLT>(b.count);
    const std::array<PLFLT, 4> xs{b.log10_lo_ms, b.log10_lo_ms, b.log10_hi_ms, b.log10_hi_ms};
    const std::array<PLFLT, 4> ys{0, y, y, 0};
    plfill(4, xs.data(), ys.data());
  }
}

// Vertical lines at the percentiles, labels staggered in height so close ones stay readable.
void draw_markers(const std::vector<marker>& markers, double y_top) {
  plcol0(3);
  for (std::size_t i = 0; i < markers.size(); ++i) {
    const double x = std::log10(std::max(markers[i].ms, 1e-6));
    const std::array<PLFLT, 2> xs{x, x};
    const std::array<PLFLT, 2> ys{0, y_top};
    plline(2, xs.data(), ys.data());
    const double label_y = y_top * (1.0 + 0.05 * static_cast<double>(i + 1));
    plptex(x, label_y, 1.0, 0.0, 0.5, markers[i].name);
  }
}

// "p50 1.20 ms   p99 3.40 ms   ..." under the title: the tail's bars are too short to read.
void draw_figures_line(const std::vector<marker>& markers) {
  std::string line;
  for (const auto& m : markers)
    line += fmt::format("{}{} {:.3g} ms", line.empty() ? "" : "    ", m.name, m.ms);
  plcol0(3);
  plmtex("t", 0.6, 0.5, 0.5, line.c_str());
}

result<void> check_writable(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) return make_errno_error(errno, "cannot write the plot " + file.string());
  std::fclose(f);
  return {};
}

}  // namespace

std::optional<std::string> plot_device_for(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return "pngcairo";
  if (ext == ".svg") return "svgcairo";
  return std::nullopt;
}

std::vector<plot_bucket> coarse_buckets(const latency_histogram& h, int per_decade) {
  std::map<int, std::uint64_t> counts;  // by floor(log10(ms) * per_decade)
  h.for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t count) {
    const double mid_ms = std::max(static_cast<double>(lo + hi) / 2.0, 1.0) / 1e6;
    counts[static_cast<int>(std::floor(std::log10(mid_ms) * per_decade))] += count;
  });
  std::vector<plot_bucket> out;
  out.reserve(counts.size());
  for (const auto& [index, count] : counts) {
    out.push_back({static_cast<double>(index) / per_decade,
                   static_cast<double>(index + 1) / per_decade, count});
  }
  return out;
}

result<void> plot_latency_histogram(const latency_histogram& h, const std::filesystem::path& file,
                                    std::string_view title) {
  const auto device = plot_device_for(file);
  if (!device) {
    return make_error(client_errc::invalid_argument,
                      "--plot " + file.string() + ": the file must end in .png or .svg");
  }
  if (h.count() == 0) {
    return make_error(client_errc::invalid_argument, "no latency was measured: nothing to plot");
  }
  if (!driver_available(*device)) {
    return make_error(
        client_errc::invalid_argument,
        fmt::format("PLplot has no {} driver (install plplot-driver-cairo)", *device));
  }
  if (auto w = check_writable(file); !w) return w;
  const auto buckets = coarse_buckets(h);
  std::uint64_t tallest = 0;
  for (const auto& b : buckets) tallest = std::max(tallest, b.count);
  const double y_top = static_cast<double>(tallest) * 1.05;
  const std::vector<marker> markers{{"p50", to_ms(h.percentile(50))},
                                    {"p99", to_ms(h.percentile(99))},
                                    {"p99.9", to_ms(h.percentile(99.9))},
                                    {"max", to_ms(h.max())}};
  const double x_min = std::floor(buckets.front().log10_lo_ms);
  const double x_max = std::ceil(
      std::max(buckets.back().log10_hi_ms, std::log10(std::max(to_ms(h.max()), 1e-6)) + 0.05));

  plsexit(plplot_exit_status);
  plsdev(device->c_str());
  plsfnam(file.c_str());
  plspage(0, 0, width_px, height_px, 0, 0);
  set_colours();
  plinit();
  plcol0(1);
  plenv(x_min, x_max, 0, y_top * 1.3, 0, 10);  // axis 10: the x axis is log10
  pllab("latency (ms)", "records", "");
  plcol0(1);
  plmtex("t", 2.2, 0.5, 0.5, std::string(title).c_str());
  draw_bars(buckets);
  draw_markers(markers, y_top);
  draw_figures_line(markers);
  plend();
  return {};
}

}  // namespace sluice::cli
