#include "segment/tools/index_check.h"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::log_tool {

namespace {

template <class Snapshot>
std::optional<verify_finding> check_hole(const std::filesystem::path& path, const Snapshot& snap) {
  if (!snap.hole) return std::nullopt;
  return verify_finding{path, std::nullopt, std::nullopt,
                        fmt::format("entry {} is all zero but {} later entries are not", *snap.hole,
                                    snap.entries_after_hole)};
}

}  // namespace

std::optional<verify_finding> index_checker::check_order() const {
  if (auto f = check_hole(files_.index, offsets_)) return f;
  if (auto f = check_hole(files_.timeindex, times_)) return f;
  if (auto f = check_offset_order()) return f;
  return check_time_order();
}

std::optional<verify_finding> index_checker::check_offset_order() const {
  const auto& e = offsets_.entries;
  for (std::size_t i = 1; i < e.size(); ++i) {
    if (e[i].offset > e[i - 1].offset && e[i].position > e[i - 1].position) continue;
    return verify_finding{
        files_.index, e[i].offset, e[i].position,
        fmt::format("entry {} (offset {}, position {}) does not follow entry {} (offset {}, "
                    "position {})",
                    i, e[i].offset, e[i].position, i - 1, e[i - 1].offset, e[i - 1].position)};
  }
  return std::nullopt;
}

std::optional<verify_finding> index_checker::check_time_order() const {
  const auto& e = times_.entries;
  for (std::size_t i = 1; i < e.size(); ++i) {
    if (e[i].timestamp > e[i - 1].timestamp && e[i].offset >= e[i - 1].offset) continue;
    return verify_finding{
        files_.timeindex, e[i].offset, std::nullopt,
        fmt::format("entry {} (timestamp {}, offset {}) does not follow entry {} (timestamp {}, "
                    "offset {})",
                    i, e[i].timestamp, e[i].offset, i - 1, e[i - 1].timestamp, e[i - 1].offset)};
  }
  return std::nullopt;
}

std::optional<verify_finding> index_checker::on_batch(file_pos position, const batch_header& h) {
  if (auto f = offset_entries_at(position, h)) return f;
  if (auto f = time_entries_in(h)) return f;
  max_timestamp_ = std::max(max_timestamp_, h.max_timestamp);
  return std::nullopt;
}

std::optional<verify_finding> index_checker::offset_entries_at(file_pos position,
                                                               const batch_header& h) {
  const auto& entries = offsets_.entries;
  if (next_offset_entry_ >= entries.size()) return std::nullopt;
  const auto& e = entries[next_offset_entry_];
  if (e.position > position) return std::nullopt;  // for a later batch
  if (e.position < position) {
    return verify_finding{files_.index, e.offset, e.position,
                          fmt::format("entry {} points inside a batch: position {} is not a batch "
                                      "start (the next batch starts at {})",
                                      next_offset_entry_, e.position, position)};
  }
  if (e.offset != h.last_offset()) {
    return verify_finding{
        files_.index, e.offset, e.position,
        fmt::format("entry {} says offset {} but the batch at position {} holds "
                    "offsets {} to {}",
                    next_offset_entry_, e.offset, position, h.base_offset, h.last_offset())};
  }
  ++next_offset_entry_;
  return std::nullopt;
}

std::optional<verify_finding> index_checker::time_entries_in(const batch_header& h) {
  const auto& entries = times_.entries;
  for (; next_time_entry_ < entries.size(); ++next_time_entry_) {
    const auto& e = entries[next_time_entry_];
    if (e.offset > h.last_offset()) break;  // for a later batch
    // Records up to e.offset: all of the earlier batches, and this one if e.offset ends it
    // (the timestamps of records inside a batch are not in its header).
    const std::int64_t max_up_to =
        e.offset == h.last_offset() ? std::max(max_timestamp_, h.max_timestamp) : max_timestamp_;
    if (max_up_to > e.timestamp) {
      return verify_finding{files_.timeindex, e.offset, std::nullopt,
                            fmt::format("entry {} (timestamp {}, offset {}) promises no later "
                                        "timestamp up to its offset, but the batches up to it "
                                        "reach {}",
                                        next_time_entry_, e.timestamp, e.offset, max_up_to)};
    }
  }
  return std::nullopt;
}

std::optional<verify_finding> index_checker::at_end(file_pos end, offset next) const {
  if (next_offset_entry_ < offsets_.entries.size()) {
    const auto& e = offsets_.entries[next_offset_entry_];
    return verify_finding{files_.index, e.offset, e.position,
                          fmt::format("entry {} (offset {}, position {}) points past the last "
                                      "batch (the .log ends at position {}, next offset {})",
                                      next_offset_entry_, e.offset, e.position, end, next)};
  }
  if (next_time_entry_ < times_.entries.size()) {
    const auto& e = times_.entries[next_time_entry_];
    return verify_finding{files_.timeindex, e.offset, std::nullopt,
                          fmt::format("entry {} (timestamp {}, offset {}) points past the last "
                                      "offset {} of the segment",
                                      next_time_entry_, e.timestamp, e.offset, next.value - 1)};
  }
  return std::nullopt;
}

}  // namespace sluice::log_tool
