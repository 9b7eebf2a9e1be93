#include "admin/cli/progress_reporter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace sluice::cli {

namespace {

using namespace std::chrono_literals;

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text.push_back(static_cast<char>(c));
  return text;
}

std::size_t lines_in(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("the reporter prints one line per interval and stops at once when asked") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  perf_stats stats;
  stats.on_record(100, 1ms);
  progress_reporter reporter(stats, "acked", out, 20ms);
  std::this_thread::sleep_for(150ms);
  const auto before_stop = std::chrono::steady_clock::now();
  reporter.stop();
  CHECK(std::chrono::steady_clock::now() - before_stop < 1s);
  const auto text = contents(out);
  CHECK(text.starts_with("1 records acked"));
  // About 7 intervals passed; a reporter that spun would have printed thousands of lines.
  CHECK(lines_in(text) >= 2);
  CHECK(lines_in(text) <= 10);
  reporter.stop();  // idempotent
  CHECK(lines_in(contents(out)) == lines_in(text));
  std::fclose(out);
}

TEST_CASE("a reporter stopped before its first interval prints nothing") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  perf_stats stats;
  { progress_reporter reporter(stats, "acked", out, 10s); }
  CHECK(contents(out).empty());
  std::fclose(out);
}

}  // namespace sluice::cli
