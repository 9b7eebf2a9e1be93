#pragma once
// The thread that prints `sluice perf`'s progress lines: every interval, what the window of
// perf_stats since the previous line holds (format_progress_line).

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "admin/cli/perf_report.h"
#include "admin/cli/perf_stats.h"

namespace sluice::cli {

// Prints format_progress_line(verb, window) every interval until stopped (or destroyed). A write
// that fails is skipped; on stdout it is noted, and EPIPE requests a stop (standard_streams.h).
class progress_reporter {
 public:
  progress_reporter(perf_stats& stats, std::string verb, std::FILE* out,
                    std::chrono::milliseconds interval);
  ~progress_reporter() { stop(); }
  progress_reporter(const progress_reporter&) = delete;
  progress_reporter& operator=(const progress_reporter&) = delete;

  void stop();

 private:
  void loop(const std::stop_token& stop);

  perf_stats& stats_;
  std::string verb_;
  std::FILE* out_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: started once the members it uses exist
};

}  // namespace sluice::cli
