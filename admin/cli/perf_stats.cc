#include "admin/cli/perf_stats.h"

#include <utility>

namespace sluice::cli {

namespace {

void add_to(perf_counts& total, const perf_counts& more) {
  total.records += more.records;
  total.bytes += more.bytes;
  total.failed += more.failed;
  total.latency.add(more.latency);
}

}  // namespace

// Counted in the window only (this runs for every record, on the client's io thread): the
// window is folded into the totals when it is taken.
void perf_stats::on_record(std::uint64_t bytes, std::optional<std::chrono::nanoseconds> latency) {
  const std::scoped_lock lock(mu_);
  ++window_.records;
  window_.bytes += bytes;
  if (latency) window_.latency.record(*latency);
}

void perf_stats::on_failure(const error& e) {
  const std::scoped_lock lock(mu_);
  ++window_.failed;
  if (!first_error_) first_error_ = e;
}

perf_counts perf_stats::take_window() {
  const std::scoped_lock lock(mu_);
  perf_counts out = window_;
  add_to(total_, window_);
  window_.records = window_.bytes = window_.failed = 0;
  window_.latency.reset();
  return out;
}

perf_counts perf_stats::totals() const {
  const std::scoped_lock lock(mu_);
  perf_counts out = total_;
  add_to(out, window_);
  return out;
}

std::optional<error> perf_stats::first_error() const {
  const std::scoped_lock lock(mu_);
  return first_error_;
}

}  // namespace sluice::cli
