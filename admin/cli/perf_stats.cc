#include "admin/cli/perf_stats.h"

#include <utility>

namespace sluice::cli {

void perf_stats::on_record(std::uint64_t bytes, std::optional<std::chrono::nanoseconds> latency) {
  const std::scoped_lock lock(mu_);
  for (perf_counts* c : {&window_, &total_}) {
    ++c->records;
    c->bytes += bytes;
    if (latency) c->latency.record(*latency);
  }
}

void perf_stats::on_failure(const error& e) {
  const std::scoped_lock lock(mu_);
  ++window_.failed;
  ++total_.failed;
  if (!first_error_) first_error_ = e;
}

perf_counts perf_stats::take_window() {
  const std::scoped_lock lock(mu_);
  perf_counts out = window_;
  window_.records = window_.bytes = window_.failed = 0;
  window_.latency.reset();
  return out;
}

perf_counts perf_stats::totals() const {
  const std::scoped_lock lock(mu_);
  return total_;
}

std::optional<error> perf_stats::first_error() const {
  const std::scoped_lock lock(mu_);
  return first_error_;
}

}  // namespace sluice::cli
