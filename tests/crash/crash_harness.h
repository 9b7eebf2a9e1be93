#pragma once
// The parent side of the crash test: start sluice-crash-appender on a log directory, SIGKILL it,
// collect what it acknowledged, reopen the log and check that every acknowledged batch is still
// there, byte for byte. Acknowledgements accumulate across cycles in a ledger, so a batch
// acknowledged in cycle 3 is checked again in cycle 40 unless retention has legitimately
// removed it (it lies below the log start offset).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocol/strong_types.h"
#include "tests/crash/ack_line.h"

namespace sluice::crash {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction
// unless SLUICE_CRASH_KEEP is set (then its path is printed, for a post-mortem).
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// How one appender run is started and ended.
struct run_plan {
  std::uint64_t seed = 0;
  // The parent's SIGKILL comes kill_after after the start, or after the "open" line when
  // after_open (then at the latest open_timeout after the start).
  std::chrono::microseconds kill_after{0};
  bool after_open = false;
  std::vector<std::string> env;  // extra "NAME=value" entries for the appender
};

inline constexpr std::chrono::seconds open_timeout{20};

// What one appender run reported on its ack fd.
struct run_outcome {
  std::vector<acked_batch> acks;       // complete "ack" lines, in order
  std::optional<offset> open_log_end;  // from the "open" line, if it came
  std::uint64_t open_bytes_cut = 0;    // what the appender's recovery cut, and why
  std::string open_cut_reason;
  std::optional<std::chrono::microseconds> open_latency;  // start to the "open" line
  std::string kill_point;          // from a "kill" line: the appender killed itself there
  std::size_t cut_line_bytes = 0;  // a last line cut short by the kill (not an ack)
  std::vector<std::string> bad_lines;
  int wait_status = 0;
};

// Starts the appender (its stdout a pipe, its stderr ours), reads its lines until
// plan.kill_after has passed or it died, SIGKILLs it, reads what is left and reaps it.
[[nodiscard]] run_outcome run_appender(const std::filesystem::path& dir, const run_plan& plan);

// "[base, last] N bytes crc32c XXXXXXXX"
[[nodiscard]] std::string describe(const acked_batch& b);

// Every acknowledgement so far, by base offset.
class ledger {
 public:
  // Records a run's acks. An offset acknowledged again with other contents means the earlier
  // batch was lost (offsets are never reused); that goes to `problems`.
  void add(const std::vector<acked_batch>& acks, std::vector<std::string>& problems);
  [[nodiscard]] const std::map<offset, acked_batch>& batches() const { return batches_; }
  // One past the highest acknowledged offset (0 when nothing was acknowledged).
  [[nodiscard]] offset end() const { return end_; }

 private:
  std::map<offset, acked_batch> batches_;
  offset end_{0};
};

// Offsets that are not contiguous: the batch expected at `expected` is not there and reading on
// from it gives `found` (the next batch's base offset, or the visible end when nothing more can
// be read from there).
struct hole {
  offset expected;
  offset found;
};

// What one reopen found.
struct verify_result {
  offset log_start{0};
  offset log_end{0};
  std::uint64_t bytes_truncated = 0;  // recovery's cut of a torn tail
  std::size_t checked = 0;            // acknowledged batches compared
  std::vector<acked_batch> lost;      // acknowledged, at or above the log start, not there
  std::vector<std::pair<acked_batch, acked_batch>> corrupted;  // acknowledged, stored
  std::vector<hole> holes;
  std::vector<std::string> problems;  // anything else, each naming the offset
};

enum class reopen_end { close, crash };

// Reopens the log in this process (recovery runs), reads it from the log start to the end,
// compares it with the ledger, then closes it cleanly or drops it (`end`).
[[nodiscard]] verify_result verify_log(const std::filesystem::path& dir, const ledger& acked,
                                       std::int64_t retention_bytes, reopen_end end);

// Appends 1-200 bytes of garbage to the newest .log in dir: a torn write for recovery to cut.
void tear_tail(const std::filesystem::path& dir, std::mt19937_64& rng);

// Runs cycles on one log directory and keeps the totals.
class crash_session {
 public:
  crash_session(std::filesystem::path dir, std::int64_t retention_bytes);

  // One cycle: run the appender per `plan`, check its run, verify the log. Problems found are
  // returned (each names the cycle and the offset).
  std::vector<std::string> cycle(run_plan plan, reopen_end end);
  // The next cycle's appender opens a log that was not verified since it was last written
  // (the kill-point test tears its tail on purpose): its recovery may cut.
  void expect_cut() { expect_cut_ = true; }
  [[nodiscard]] const run_outcome& last_run() const { return last_run_; }
  // An estimate of how long the appender takes from its start to an open log.
  [[nodiscard]] std::chrono::microseconds open_latency() const { return open_latency_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // "cycles=N acked=N lost=N corrupted=N truncated_bytes=N"
  [[nodiscard]] std::string summary() const;
  // Killed before the log was open; acks verified; log start offset now.
  [[nodiscard]] std::string details() const;
  // Distinct offsets lost, corrupted, or where a hole starts, over all cycles so far.
  [[nodiscard]] std::size_t lost() const { return lost_.size(); }
  [[nodiscard]] std::size_t corrupted() const { return corrupted_.size(); }
  [[nodiscard]] std::size_t holes() const { return holes_.size(); }

 private:
  void check_run(const run_outcome& run, std::vector<std::string>& problems) const;
  // Adds what a reopen found; each lost or corrupted offset and each hole is reported once.
  void account(const verify_result& v, std::vector<std::string>& problems);

  std::filesystem::path dir_;
  std::int64_t retention_bytes_;
  ledger ledger_;
  run_outcome last_run_;
  std::chrono::microseconds open_latency_{20'000};
  int cycles_ = 0;
  std::size_t acked_ = 0;
  std::set<offset> lost_;
  std::set<offset> corrupted_;
  std::set<offset> holes_;
  std::size_t killed_before_open_ = 0;
  std::size_t checked_ = 0;
  std::uint64_t truncated_bytes_ = 0;
  offset log_start_{0};
  bool expect_cut_ = false;
  reopen_end last_end_ = reopen_end::close;
};

}  // namespace sluice::crash
