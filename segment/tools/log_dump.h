#pragma once
// `sluice-log dump`: prints a partition directory (or one .log file) the way kafka-dump-log
// does: the checkpoint, then per segment its index entry counts and every batch's header, and
// with `records` every record. Read-only.

#include <cstdio>
#include <filesystem>
#include <optional>

#include "protocol/strong_types.h"
#include "segment/tools/dump_format.h"
#include "segment/tools/tool_status.h"

namespace sluice::log_tool {

struct dump_options {
  bool records = false;        // decode and print every record (zstd is decompressed)
  std::optional<offset> from;  // skip batches (and records) below this offset
  output_format format = output_format::text;
};

// Prints to `out`; errors go to the log. Returns corruption when a batch has a bad CRC, cannot be
// decoded or a file ends in a torn or broken batch (the dump goes on with the next segment),
// failure for a bad path or an I/O error.
[[nodiscard]] exit_status run_dump(const std::filesystem::path& path, const dump_options& opts,
                                   std::FILE* out);

}  // namespace sluice::log_tool
