// A crash session: cycles of run-kill-reopen-verify on one log directory, and their totals.

#include <fmt/format.h>
#include <sys/wait.h>

#include <csignal>

#include "tests/crash/crash_harness.h"

namespace sluice::crash {

crash_session::crash_session(std::filesystem::path dir, std::int64_t retention_bytes)
    : dir_(std::move(dir)), retention_bytes_(retention_bytes) {}

std::vector<std::string> crash_session::cycle(run_plan plan, reopen_end end) {
  ++cycles_;
  std::vector<std::string> problems;
  last_run_ = run_appender(dir_, plan);
  check_run(last_run_, problems);
  if (last_run_.open_bytes_cut > 0 && !expect_cut_ && cycles_ > 1) {
    // This test reopened the log after the previous kill and nothing has written to it since:
    // a torn tail would have been cut then.
    problems.push_back(
        fmt::format("the appender's open cut {} bytes from a log this test had "
                    "just recovered and {} ({}): was the log left inconsistent?",
                    last_run_.open_bytes_cut, last_end_ == reopen_end::close ? "closed" : "dropped",
                    last_run_.open_cut_reason));
  }
  expect_cut_ = false;
  last_end_ = end;
  if (last_run_.open_latency) open_latency_ = (open_latency_ * 3 + *last_run_.open_latency) / 4;
  if (!last_run_.open_log_end) ++killed_before_open_;
  acked_ += last_run_.acks.size();
  ledger_.add(last_run_.acks, problems);
  account(verify_log(dir_, ledger_, retention_bytes_, end), problems);
  for (auto& p : problems) p = fmt::format("cycle {} (seed {}): {}", cycles_, plan.seed, p);
  return problems;
}

void crash_session::check_run(const run_outcome& run, std::vector<std::string>& problems) const {
  const int st = run.wait_status;
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
    problems.push_back(
        fmt::format("the appender was not killed but ended on its own (wait status "
                    "{:#x}, exit code {}); see its stderr",
                    st, WIFEXITED(st) ? WEXITSTATUS(st) : -1));
  }
  for (const auto& line : run.bad_lines) problems.push_back("unexpected line: " + line);
  // Appends are acknowledged in offset order, each continuing where the previous one ended,
  // starting at the log end the appender opened.
  std::optional<offset> expected = run.open_log_end;
  for (const acked_batch& a : run.acks) {
    if (expected && a.base != *expected) {
      problems.push_back(
          fmt::format("acknowledged out of order: batch at {} where {} was "
                      "expected",
                      a.base, *expected));
    }
    expected = a.last + 1;
  }
}

void crash_session::account(const verify_result& v, std::vector<std::string>& problems) {
  if (v.log_start < log_start_) {
    problems.push_back(
        fmt::format("the log start offset went back from {} to {}", log_start_, v.log_start));
  }
  log_start_ = v.log_start;
  checked_ += v.checked;
  truncated_bytes_ += v.bytes_truncated;
  for (const acked_batch& a : v.lost) {
    if (!lost_.insert(a.base).second) continue;
    problems.push_back(
        fmt::format("LOST: acknowledged batch at offset {} ({}) is not in the log "
                    "[{}, {})",
                    a.base, describe(a), v.log_start, v.log_end));
  }
  for (const auto& [acked, stored] : v.corrupted) {
    if (!corrupted_.insert(acked.base).second) continue;
    problems.push_back(fmt::format("CORRUPTED: batch at offset {}: acknowledged {}, stored {}",
                                   acked.base, describe(acked), describe(stored)));
  }
  for (const hole& h : v.holes) {
    if (!holes_.insert(h.expected).second) continue;
    problems.push_back(
        fmt::format("HOLE: offsets not contiguous: no batch at offset {}, reading "
                    "from it gives {} (log [{}, {}), recovery cut {} bytes)",
                    h.expected, h.found, v.log_start, v.log_end, v.bytes_truncated));
  }
  problems.insert(problems.end(), v.problems.begin(), v.problems.end());
}

std::string crash_session::summary() const {
  return fmt::format("cycles={} acked={} lost={} corrupted={} truncated_bytes={}", cycles_, acked_,
                     lost_.size(), corrupted_.size(), truncated_bytes_);
}

std::string crash_session::details() const {
  return fmt::format("killed_before_open={} batch_checks={} holes={} log_start={} ledger_end={}",
                     killed_before_open_, checked_, holes_.size(), log_start_, ledger_.end());
}

}  // namespace sluice::crash
