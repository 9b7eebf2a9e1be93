#include "admin/cli/perf_report.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace sluice::cli {

namespace {

perf_counts sample_counts() {
  perf_counts c;
  c.records = 1000;
  c.bytes = 1000 * 1024;
  for (int i = 1; i <= 1000; ++i) c.latency.record(std::chrono::microseconds(i));
  return c;
}

}  // namespace

TEST_CASE("figures are rates over the run's seconds, MiB of values, latency in ms") {
  const auto f = figures_of(sample_counts(), 2.0, "produce", "t", "send-to-ack");
  CHECK(f.records_per_sec == doctest::Approx(500));
  CHECK(f.mib_per_sec == doctest::Approx(1000.0 / 1024 / 2));
  REQUIRE(f.latency);
  CHECK(f.latency->p50_ms == doctest::Approx(0.5).epsilon(0.01));
  CHECK(f.latency->p999_ms == doctest::Approx(0.999).epsilon(0.01));
  CHECK(f.latency->max_ms == doctest::Approx(1.0));
}

TEST_CASE("the JSON line has the figures; latency fields are null when none was measured") {
  const auto j = nlohmann::json::parse(
      format_figures_json(figures_of(sample_counts(), 1.0, "produce", "t", "send-to-ack")));
  CHECK(j["mode"] == "produce");
  CHECK(j["records"] == 1000);
  CHECK(j["records_per_sec"].get<double>() == doctest::Approx(1000));
  CHECK(j["latency"] == "send-to-ack");
  CHECK(j["latency_p99_ms"].get<double>() > 0);
  const auto consume = nlohmann::json::parse(
      format_figures_json(figures_of(sample_counts(), 1.0, "consume", "t", "")));
  CHECK(consume["latency"].is_null());
  CHECK(consume["latency_p50_ms"].is_null());
}

TEST_CASE("a progress line gives the window's rate and latency") {
  const auto line = format_progress_line("acked", sample_counts(), 0.5);
  CHECK(line.starts_with("1000 records acked, 2000.0 rec/s (1.95 MiB/s), latency p50"));
  perf_counts empty;
  CHECK(format_progress_line("consumed", empty, 1.0) ==
        "0 records consumed, 0.0 rec/s (0.00 MiB/s)");
}

TEST_CASE("the summary names the latency it measured") {
  const auto text = format_summary(figures_of(sample_counts(), 1.0, "e2e", "t", "end-to-end"));
  CHECK(text.find("e2e: 1000 records in 1.00 s: 1000.0 rec/s") == 0);
  CHECK(text.find("end-to-end latency: p50") != std::string::npos);
}

TEST_CASE("perf stats: a window is what happened since the last one, totals everything") {
  perf_stats s;
  s.on_record(10, std::chrono::milliseconds(1));
  s.on_failure(error{{}, "boom"});
  auto w = s.take_window();
  CHECK(w.records == 1);
  CHECK(w.failed == 1);
  s.on_record(5, std::nullopt);
  w = s.take_window();
  CHECK(w.records == 1);
  CHECK(w.latency.count() == 0);
  CHECK(s.totals().records == 2);
  CHECK(s.totals().bytes == 15);
  CHECK(s.first_error()->detail == "boom");
}

TEST_CASE("perf stats: totals include what came after the last window was taken") {
  perf_stats s;
  s.on_record(10, std::chrono::milliseconds(1));
  (void)s.take_window();
  s.on_record(20,
              std::chrono::milliseconds(3));  // the run's last acks, after the last progress line
  s.on_failure(error{{}, "late"});
  const perf_counts t = s.totals();
  CHECK(t.records == 2);
  CHECK(t.bytes == 30);
  CHECK(t.failed == 1);
  CHECK(t.latency.count() == 2);
  CHECK(s.totals().records == 2);  // reading the totals takes nothing away
}

}  // namespace sluice::cli
