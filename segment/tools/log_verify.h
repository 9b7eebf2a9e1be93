#pragma once
// `sluice-log verify`: a read-only check of a whole partition directory (or one .log file):
// every batch's frame, length, CRC and records; offsets contiguous across batches and segments;
// both indexes ordered and pointing at what they claim; the checkpoint consistent with the log.
// Stops at the first problem. Opens every file read-only and never uses partition_log (whose
// open() runs recovery and writes a checkpoint) nor offset_index/time_index (which preallocate).

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocol/result.h"
#include "protocol/strong_types.h"
#include "segment/tools/partition_dir.h"
#include "segment/tools/tool_status.h"
#include "segment/tools/verify_finding.h"

namespace sluice::log_tool {

// What a successful verify covered.
struct verify_totals {
  std::size_t segments = 0;
  std::uint64_t batches = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t index_entries = 0;
  std::uint64_t timeindex_entries = 0;
  offset first_offset{0};  // the log holds [first_offset, end_offset)
  offset end_offset{0};
  bool checkpoint_present = false;
  bool clean = false;
  std::optional<offset> pending_truncation;
  // What recovery will cut without losing an offset: a crashed or open log's unfinished tail,
  // a recycled file's old bytes (unrecovered_tail.h). Not findings.
  std::vector<std::string> cut_by_recovery;
};

// Checks `target` front to back. A finding is a problem in the data (exit 1); an error is an I/O
// failure (exit 2). `totals` is filled as far as the check got.
[[nodiscard]] result<std::optional<verify_finding>> verify_partition(const partition_target& target,
                                                                     verify_totals& totals);

// The one-line summary of a log that passed.
[[nodiscard]] std::string format_totals(const std::filesystem::path& path,
                                        const verify_totals& totals);

// Locates, verifies, prints the finding or the summary to `out`; errors go to the log.
[[nodiscard]] exit_status run_verify(const std::filesystem::path& path, std::FILE* out);

}  // namespace sluice::log_tool
