#pragma once
// A segment's .index and .timeindex read as they are on disk (index/index_format.h), for
// inspection. offset_index::open and time_index::open are not used: they open the file
// read-write and preallocate it, and the tool must not change anything.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "index/offset_index.h"
#include "index/time_index.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice::log_tool {

template <class Entry>
struct index_snapshot {
  bool present = false;  // false: no such file (then everything else is empty)
  std::uint64_t file_bytes = 0;
  // The entries before the first all-zero one, as index_file::open counts them for a file that
  // was preallocated and not trimmed; a trimmed file ends at its last entry or in zeroed ones.
  std::vector<Entry> entries;
  // Set when an all-zero entry is followed by non-zero ones: its number, and how many of the
  // following entries are not zero. A whole index never has such a hole.
  std::optional<std::size_t> hole;
  std::size_t entries_after_hole = 0;
};

using offset_index_snapshot = index_snapshot<offset_index::entry>;
using time_index_snapshot = index_snapshot<time_index::entry>;

// Read-only. Fails with index_errc::corrupt_index when the size is not a multiple of the entry
// size, with an errno error when the file cannot be read.
[[nodiscard]] result<offset_index_snapshot> read_offset_index(const std::filesystem::path& path,
                                                              offset base);
[[nodiscard]] result<time_index_snapshot> read_time_index(const std::filesystem::path& path,
                                                          offset base);

}  // namespace sluice::log_tool
