#pragma once
// What the peer drivers of perf/compare share: a small option parser, the record values (the
// same random printable bytes `sluice perf` sends), the send pacing (`sluice perf`'s
// rate_limiter: record n may go at start + n / rate) and the JSON line every driver prints, with
// the field names of `sluice perf --json` so that perf/peers/report.py reads all systems alike.

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "admin/cli/latency_histogram.h"
#include "admin/cli/perf_payload.h"
#include "admin/cli/rate_limiter.h"
#include "admin/cli/tick_clock.h"

namespace sluice::compare {

// Every system is timed with the clock `sluice perf` uses (the CPU's counter where invariant).
using clock = cli::tick_clock;

// argv[1] is the mode; then --name value pairs.
class options {
 public:
  options(int argc, char** argv) {
    if (argc < 2) throw std::invalid_argument("usage: MODE --name value ...");
    mode_ = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string name = argv[i];
      if (name.rfind("--", 0) != 0) throw std::invalid_argument("expected --name, got " + name);
      values_[name.substr(2)] = argv[i + 1];
    }
  }
  [[nodiscard]] const std::string& mode() const { return mode_; }
  [[nodiscard]] std::string str(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  [[nodiscard]] double num(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::stod(it->second);
  }

 private:
  std::string mode_;
  std::map<std::string, std::string> values_;
};

// When the run stops: after `count` records (when > 0) or `seconds` (when > 0).
// What a produce run's acknowledgement callbacks collect, under one mutex.
struct ack_state {
  std::mutex mutex;
  cli::latency_histogram latency;
  std::uint64_t acked = 0;
  std::uint64_t failed = 0;
  std::uint64_t bytes = 0;
};

struct target {
  std::uint64_t count = 0;
  double seconds = 0;
  [[nodiscard]] bool more(std::uint64_t sent, clock::duration elapsed) const {
    if (count > 0 && sent >= count) return false;
    if (seconds > 0 && std::chrono::duration<double>(elapsed).count() >= seconds) return false;
    return count > 0 || seconds > 0;
  }
};

// Sleeps until record number n may be sent (no-op when unlimited).
inline void pace(const cli::rate_limiter& limiter, std::uint64_t n, clock::time_point start) {
  if (limiter.unlimited()) return;
  const auto wait = limiter.delay_before(n, clock::now() - start);
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

// One JSON line on stdout, the fields of `sluice perf --json` plus "system".
inline void print_figures(const std::string& system, const std::string& mode, std::uint64_t records,
                          std::uint64_t bytes, std::uint64_t failed, double seconds,
                          const cli::latency_histogram* latency,
                          const nlohmann::ordered_json& extra = {}) {
  constexpr double mib = 1024.0 * 1024.0;
  nlohmann::ordered_json j{{"system", system},
                           {"mode", mode},
                           {"records", records},
                           {"failed", failed},
                           {"bytes", bytes},
                           {"seconds", seconds},
                           {"records_per_sec", seconds > 0 ? double(records) / seconds : 0.0},
                           {"mib_per_sec", seconds > 0 ? double(bytes) / mib / seconds : 0.0}};
  const bool has_latency = latency != nullptr && latency->count() > 0;
  j["latency"] = has_latency ? nlohmann::ordered_json("send-to-ack") : nullptr;
  for (auto [name, p] :
       {std::pair{"latency_p50_ms", 50.0}, {"latency_p99_ms", 99.0}, {"latency_p999_ms", 99.9}}) {
    j[name] = has_latency ? nlohmann::ordered_json(cli::to_ms(latency->percentile(p))) : nullptr;
  }
  j["latency_max_ms"] = has_latency ? nlohmann::ordered_json(cli::to_ms(latency->max())) : nullptr;
  for (const auto& [k, v] : extra.items()) j[k] = v;
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
}

}  // namespace sluice::compare
