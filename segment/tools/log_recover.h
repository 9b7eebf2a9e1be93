#pragma once
// `sluice-log recover`: opens a partition directory with partition_log::open, which runs the
// broker's own recovery (re-validates what was written past the recovery point, cuts a torn or
// corrupt tail, rebuilds indexes, writes a checkpoint), reports what it did, and closes the log
// cleanly. This command writes: it is what a broker would do on start-up, done offline.

#include <cstdio>
#include <filesystem>
#include <string>

#include "segment/partition_log.h"
#include "segment/tools/tool_status.h"

namespace sluice::log_tool {

// The report, one fact per line, without a trailing newline.
[[nodiscard]] std::string format_recovery(const std::filesystem::path& dir,
                                          const partition_log& log);

struct recover_options {
  // Re-validate every batch, not only those past the recovery point: the checkpoint is first
  // rewritten as "not clean, recovery point at the first segment's start". Without it a log
  // that was closed cleanly is trusted as it is, however its bytes changed since.
  bool full = false;
};

// Prints the report to `out`. failure (with the error in the log) for a bad path, a failed
// recovery or a failed close.
[[nodiscard]] exit_status run_recover(const std::filesystem::path& path,
                                      const recover_options& opts, std::FILE* out);

}  // namespace sluice::log_tool
