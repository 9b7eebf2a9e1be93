#include "segment/tools/unrecovered_tail.h"

#include <fmt/format.h>

namespace sluice::log_tool {

recovery_horizon::recovery_horizon(const partition_target& target, bool trusted_to_end)
    : target_(target), trusted_to_end_(trusted_to_end) {}

recovery_horizon::recovery_horizon(const partition_target& target,
                                   const std::optional<partition_checkpoint>& checkpoint)
    : recovery_horizon(target, target.single_file || (checkpoint && checkpoint->clean)) {
  if (checkpoint) {
    recovery_segment_ = checkpoint->recovery_segment;
    recovery_position_ = checkpoint->recovery_position;
  }
}

recovery_horizon recovery_horizon::none(const partition_target& target) {
  return {target, true};
}

bool recovery_horizon::past_recovery_point(std::size_t index, file_pos position) const {
  if (trusted_to_end_) return false;
  const offset base = target_.segments.at(index).base;
  return base > recovery_segment_ ||
         (base == recovery_segment_ && position.value >= recovery_position_.value);
}

walk_end recovery_horizon::classify(std::size_t index, file_pos position, offset next) const {
  if (!past_recovery_point(index, position)) return walk_end::damage;
  if (index + 1 == target_.segments.size()) return walk_end::unfinished_tail;
  if (target_.segments[index + 1].base == next) return walk_end::old_bytes;
  return walk_end::damage;  // recovery would cut the log here and lose the offsets up to the next
}

std::string describe_walk_end(walk_end kind, const std::filesystem::path& file, file_pos position,
                              offset next, std::string_view what) {
  const auto where = fmt::format("position {} of {}", position, file.filename().string());
  if (kind == walk_end::unfinished_tail) {
    return fmt::format("recovery will cut the log at offset {} ({}): {}", next, where, what);
  }
  return fmt::format(
      "recovery will cut the bytes past offset {} ({}), the next segment goes on "
      "from there: {}",
      next, where, what);
}

}  // namespace sluice::log_tool
