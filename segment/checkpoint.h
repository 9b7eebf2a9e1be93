#pragma once
// The partition checkpoint: what recovery may trust. Text, one fact per line, replaced
// atomically (write checkpoint.tmp, fdatasync, rename, fsync the directory), so a crash leaves
// either the old or the new file, never a mix.
//
//   sluice-checkpoint 1
//   clean 0|1                       1 = written by close(); nothing needs scanning
//   log_start_offset <offset>
//   recovery_point <offset> <segment base> <file position>
//   truncate_to <offset>|-1        a truncation that must finish (or re-run) before use
//   leader_epochs <n>
//   <epoch> <start offset>          n lines, ascending
//
// Everything below recovery_point is fdatasync'd and its index entries msync'd; the position is
// where the batch holding recovery_point starts in that segment (or its end).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocol/result.h"
#include "protocol/strong_types.h"
#include "segment/atomic_file.h"

namespace sluice {

struct epoch_entry {
  leader_epoch epoch;
  offset start_offset;  // first offset written in this epoch
  bool operator==(const epoch_entry&) const = default;
};

struct partition_checkpoint {
  bool clean = false;
  offset log_start_offset{0};
  offset recovery_point{0};
  offset recovery_segment{0};  // base offset of the segment holding recovery_point
  file_pos recovery_position{0};
  offset truncate_to{-1};  // -1: none pending
  std::vector<epoch_entry> leader_epochs;
  bool operator==(const partition_checkpoint&) const = default;
};

inline constexpr const char* checkpoint_file_name = "checkpoint";

// nullopt when the directory has no checkpoint (a new or pre-checkpoint log).
[[nodiscard]] result<std::optional<partition_checkpoint>> read_checkpoint(
    const std::filesystem::path& dir);
// The file's text, as write_checkpoint writes it (for writers that sync asynchronously).
[[nodiscard]] std::string render_checkpoint(const partition_checkpoint& cp);
[[nodiscard]] result<void> write_checkpoint(const std::filesystem::path& dir,
                                            const partition_checkpoint& cp);

}  // namespace sluice
