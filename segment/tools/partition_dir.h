#pragma once
// What sluice-log is pointed at: a partition directory (`<topic>-<partition>/`) or one segment's
// .log file, resolved to its segments in offset order. Looks only; never creates or opens
// anything for writing.

#include <filesystem>
#include <vector>

#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice::log_tool {

// The three files of one segment, named by its base offset. The indexes may be missing.
struct segment_files {
  offset base;
  std::filesystem::path log;
  std::filesystem::path index;
  std::filesystem::path timeindex;
};

struct partition_target {
  std::filesystem::path dir;            // the partition directory (for a single file: its parent)
  bool single_file = false;             // a .log path was given: only that segment, no checkpoint
  std::vector<segment_files> segments;  // ascending base offset, never empty
};

// Resolves `path`. Usage errors (exit 2): "<path>: no such directory", "<path>: not a .log file",
// "not a partition directory: no .log files in <path>"; errno errors if listing fails.
[[nodiscard]] result<partition_target> locate_partition(const std::filesystem::path& path);

}  // namespace sluice::log_tool
