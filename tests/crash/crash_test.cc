// Crash tests of the storage engine: sluice-crash-appender appends with flush=always and reports
// every acknowledged append; it is SIGKILLed, the log is reopened here (recovery runs) and every
// acknowledged batch at or above the log start offset must be there, byte for byte, with no
// holes in the offsets from the log start to the log end. Each problem fails the test with its
// cycle and offset; the first test ends with the summary line
//   cycles=N acked=N lost=N corrupted=N truncated_bytes=N
//
// Environment: SLUICE_CRASH_CYCLES (default 60), SLUICE_CRASH_POINT_ROUNDS (default 3),
// SLUICE_CRASH_SEED (the plan: kill delays, seeds, close or drop; timing stays real),
// SLUICE_CRASH_VERBOSE=1 (the engine's own log lines), SLUICE_IO_BACKEND (passed on).

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include "tests/crash/crash_config.h"
#include "tests/crash/crash_harness.h"
#include "tests/crash/kill_points.h"

namespace sluice::crash {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

std::uint64_t plan_seed() {
  const char* v = std::getenv("SLUICE_CRASH_SEED");
  return v != nullptr ? std::strtoull(v, nullptr, 10) : std::random_device{}();
}

void quiet_engine_logs() {
  const bool verbose = std::getenv("SLUICE_CRASH_VERBOSE") != nullptr;
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::err);
}

void print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// Fails the test once per problem (the first 30; the totals are checked anyway).
void report(const std::vector<std::string>& problems) {
  static int reported = 0;
  for (const auto& p : problems) {
    if (reported++ < 30) FAIL_CHECK(p);
  }
}

std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

// One cycle in five is killed during start-up, before the log is open (somewhere in recovery
// or the first checkpoint, going by how long opening took lately); the rest append for 5-150 ms
// after the log is open.
run_plan random_plan(std::mt19937_64& rng, std::uint64_t seed, microseconds open_latency) {
  run_plan plan;
  plan.seed = seed;
  if (rng() % 5 == 0) {
    plan.kill_after = microseconds(uniform(rng, 0, open_latency.count() * 6 / 5));
  } else {
    plan.kill_after = microseconds(uniform(rng, 5'000, 150'000));
    plan.after_open = true;
  }
  return plan;
}

reopen_end pick_end(std::mt19937_64& rng) {
  return rng() % 2 == 0 ? reopen_end::close : reopen_end::crash;
}

std::string env_entry(const char* name, const std::string& value) {
  return std::string(name) + "=" + value;
}

}  // namespace

TEST_CASE("every acknowledged batch survives SIGKILL at random moments, byte for byte") {
  quiet_engine_logs();
  const int cycles = env_int("SLUICE_CRASH_CYCLES", 60);
  const std::uint64_t seed = plan_seed();
  print(fmt::format("crash: {} cycles, SLUICE_CRASH_SEED={}", cycles, seed));
  scratch_dir tmp;
  crash_session s(tmp.path() / "topic-0", default_retention_bytes);
  std::mt19937_64 rng(seed);
  const auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < cycles; ++c) {
    run_plan plan = random_plan(rng, seed + static_cast<std::uint64_t>(c) + 1, s.open_latency());
    plan.env.push_back(env_entry(retention_env, std::to_string(default_retention_bytes)));
    report(s.cycle(std::move(plan), pick_end(rng)));
  }
  const auto took = std::chrono::steady_clock::now() - started;
  print(s.summary());
  print(fmt::format("crash: {} seconds={:.1f}", s.details(),
                    std::chrono::duration<double>(took).count()));
  CHECK(s.lost() == 0);
  CHECK(s.corrupted() == 0);
  CHECK(s.holes() == 0);
}

TEST_CASE(
    "SIGKILL inside roll, retention, checkpoint replacement and a recovery cut loses "
    "nothing") {
  quiet_engine_logs();
  const int rounds = env_int("SLUICE_CRASH_POINT_ROUNDS", 3);
  const std::uint64_t seed = plan_seed();
  print(fmt::format("crash kill points: {} rounds, SLUICE_CRASH_SEED={}", rounds, seed));
  constexpr std::int64_t retention = 256 << 10;  // retention deletes within a short run
  scratch_dir tmp;
  crash_session s(tmp.path() / "topic-0", retention);
  std::mt19937_64 rng(seed);
  std::map<std::string_view, int> hits;
  for (int r = 0; r < rounds; ++r) {
    for (const kill_point& kp : kill_points) {
      if (kp.name == "log_truncated") {
        tear_tail(s.dir(), rng);
        s.expect_cut();
      }
      auto n = uniform(rng, 1, kp.max_n);
      run_plan plan{rng(),
                    milliseconds(4000),  // a fallback: the appender kills itself at the point
                    true,
                    {env_entry(kill_at_env, fmt::format("{}:{}", kp.name, n)),
                     env_entry(retention_env, std::to_string(retention))}};
      report(s.cycle(std::move(plan), pick_end(rng)));
      if (s.last_run().kill_point == kp.name) ++hits[kp.name];
    }
  }
  print(fmt::format("crash kill points: {} {}", s.summary(), s.details()));
  for (const kill_point& kp : kill_points) {
    print(fmt::format("  {:<26} {}/{}  ({})", kp.name, hits[kp.name], rounds, kp.moment));
    CHECK_MESSAGE(hits[kp.name] > 0, "kill point " << kp.name << " was never reached");
  }
  CHECK(s.lost() == 0);
  CHECK(s.corrupted() == 0);
  CHECK(s.holes() == 0);
}

}  // namespace sluice::crash
