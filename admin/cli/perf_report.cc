#include "admin/cli/perf_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sluice::cli {

namespace {

using json = nlohmann::ordered_json;

constexpr double mib = 1024.0 * 1024.0;

double per_second(double amount, double seconds) {
  return seconds > 0 ? amount / seconds : 0;
}

latency_figures latency_of(const latency_histogram& h) {
  return {to_ms(h.percentile(50)), to_ms(h.percentile(99)), to_ms(h.percentile(99.9)),
          to_ms(h.max())};
}

json nullable(const std::optional<latency_figures>& l, double latency_figures::*field) {
  return l ? json((*l).*field) : json(nullptr);
}

}  // namespace

perf_figures figures_of(const perf_counts& c, double seconds, std::string mode, std::string topic,
                        std::string latency_kind) {
  perf_figures f{.mode = std::move(mode),
                 .topic = std::move(topic),
                 .records = c.records,
                 .bytes = c.bytes,
                 .failed = c.failed,
                 .seconds = seconds,
                 .records_per_sec = per_second(static_cast<double>(c.records), seconds),
                 .mib_per_sec = per_second(static_cast<double>(c.bytes) / mib, seconds),
                 .latency_kind = std::move(latency_kind),
                 .latency = std::nullopt};
  if (!f.latency_kind.empty() && c.latency.count() > 0) f.latency = latency_of(c.latency);
  return f;
}

std::string format_progress_line(std::string_view verb, const perf_counts& window,
                                 double window_seconds) {
  std::string line =
      fmt::format("{} records {}, {:.1f} rec/s ({:.2f} MiB/s)", window.records, verb,
                  per_second(static_cast<double>(window.records), window_seconds),
                  per_second(static_cast<double>(window.bytes) / mib, window_seconds));
  if (window.latency.count() > 0) {
    const auto l = latency_of(window.latency);
    line += fmt::format(", latency p50 {:.2f} ms p99 {:.2f} ms max {:.2f} ms", l.p50_ms, l.p99_ms,
                        l.max_ms);
  }
  if (window.failed > 0) line += fmt::format(", {} failed", window.failed);
  return line;
}

std::string format_summary(const perf_figures& f) {
  std::string out = fmt::format("{}: {} records in {:.2f} s: {:.1f} rec/s, {:.2f} MiB/s", f.mode,
                                f.records, f.seconds, f.records_per_sec, f.mib_per_sec);
  if (f.failed > 0) out += fmt::format(", {} failed", f.failed);
  out += "\n";
  if (f.latency) {
    out += fmt::format("{} latency: p50 {:.3f} ms, p99 {:.3f} ms, p99.9 {:.3f} ms, max {:.3f} ms\n",
                       f.latency_kind, f.latency->p50_ms, f.latency->p99_ms, f.latency->p999_ms,
                       f.latency->max_ms);
  }
  return out;
}

std::string format_figures_json(const perf_figures& f) {
  const json j{{"mode", f.mode},
               {"topic", f.topic},
               {"records", f.records},
               {"failed", f.failed},
               {"bytes", f.bytes},
               {"seconds", f.seconds},
               {"records_per_sec", f.records_per_sec},
               {"mib_per_sec", f.mib_per_sec},
               {"latency", f.latency_kind.empty() ? json(nullptr) : json(f.latency_kind)},
               {"latency_p50_ms", nullable(f.latency, &latency_figures::p50_ms)},
               {"latency_p99_ms", nullable(f.latency, &latency_figures::p99_ms)},
               {"latency_p999_ms", nullable(f.latency, &latency_figures::p999_ms)},
               {"latency_max_ms", nullable(f.latency, &latency_figures::max_ms)}};
  return j.dump();
}

}  // namespace sluice::cli
