#include "admin/cli/progress_reporter.h"

#include "admin/cli/standard_streams.h"

namespace sluice::cli {

progress_reporter::progress_reporter(perf_stats& stats, std::string verb, std::FILE* out,
                                     std::chrono::milliseconds interval)
    : stats_(stats),
      verb_(std::move(verb)),
      out_(out),
      interval_(interval),
      thread_([this](const std::stop_token& st) { loop(st); }) {}

void progress_reporter::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void progress_reporter::loop(const std::stop_token& stop) {
  auto last = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  for (;;) {
    // Returns at the interval, or at once when stop is (or already was) requested: the
    // predicate alone cannot tell those apart, so the token is checked after every wake.
    wake_.wait_for(lock, stop, interval_, [] { return false; });
    if (stop.stop_requested()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::duration<double> window = now - last;
    last = now;
    // Not fmt::print, which throws when the write fails. On stdout a reader that went away
    // (`| head`) stops the run: write_and_flush requests it.
    write_and_flush(out_, format_progress_line(verb_, stats_.take_window(), window.count()) + "\n");
  }
}

}  // namespace sluice::cli
