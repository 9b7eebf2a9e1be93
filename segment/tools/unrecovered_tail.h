#pragma once
// Whether bytes that end a walk over a segment before the end of its file are damage, or what
// recovery cuts without losing anything: a log a crash left (or one a broker has open) keeps
// past its last durable batch a torn write, zeros, or a recycled file's old bytes (a deleted
// segment's batches, which a new segment is written over in place). Recovery re-scans only
// what lies past the checkpoint's recovery position, and cuts there; dump and verify judge the
// same bytes the same way, so an operator looking at a crashed log is not told it is corrupt.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/strong_types.h"
#include "segment/checkpoint.h"
#include "segment/tools/partition_dir.h"

namespace sluice::log_tool {

enum class walk_end {
  damage,           // corruption: report it
  unfinished_tail,  // the last segment's tail past the recovery point: recovery cuts it there
  old_bytes,        // past a segment's batches, the next segment continuing its offsets:
                    // bytes a roll did not cut, which held no offset of the log
};

class recovery_horizon {
 public:
  // `checkpoint`: what the partition's checkpoint file says (nullopt: it has none, so recovery
  // re-scans everything). Not for a single .log file: without its directory's checkpoint
  // nothing is known to be past a recovery point.
  recovery_horizon(const partition_target& target,
                   const std::optional<partition_checkpoint>& checkpoint);
  // A horizon before which everything is trusted, so that whatever stops a walk is damage
  // (a single file, or a checkpoint that could not be read).
  static recovery_horizon none(const partition_target& target);

  // What stops a walk over segment `index` of the target at `position`, where the batches
  // before it end at offset `next`.
  [[nodiscard]] walk_end classify(std::size_t index, file_pos position, offset next) const;

 private:
  recovery_horizon(const partition_target& target, bool trusted_to_end);
  [[nodiscard]] bool past_recovery_point(std::size_t index, file_pos position) const;

  const partition_target& target_;
  bool trusted_to_end_;  // a clean shutdown's log, a single file, or an unreadable checkpoint
  offset recovery_segment_{0};
  file_pos recovery_position_{0};
};

// How a walk-ending problem reads when it is not damage, e.g. "recovery will cut the log at
// offset 40 (position 4096 of 00000000000000000000.log): torn tail: ...".
[[nodiscard]] std::string describe_walk_end(walk_end kind, const std::filesystem::path& file,
                                            file_pos position, offset next, std::string_view what);

}  // namespace sluice::log_tool
