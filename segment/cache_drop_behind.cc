#include "segment/cache_drop_behind.h"

#include <algorithm>

#include "segment/io/backend.h"
#include "segment/segment.h"

namespace sluice {

namespace {
constexpr std::uint64_t page_bytes = 4096;
}

std::uint64_t cache_drop_behind::step_bytes(std::uint64_t keep_bytes) {
  return std::clamp(keep_bytes / 4, min_step_bytes, max_step_bytes);
}

void cache_drop_behind::on_roll(offset base, std::uint64_t size, std::int64_t keep_bytes) {
  if (keep_bytes < 0) {
    rolled_.clear();
    return;
  }
  // A truncation below earlier rolls made one of those segments active again: forget them.
  while (!rolled_.empty() && rolled_.back().base >= base) rolled_.pop_back();
  rolled_.push_back({base, size, base == segment_ ? dropped_to_ : 0});
}

void cache_drop_behind::on_durable(io::backend& io, offset segment_base, std::uint64_t durable_end,
                                   std::int64_t keep_bytes, const file_lookup& file_of) {
  if (keep_bytes < 0) return;
  if (segment_base != segment_) {  // the durable end moved on: drops start at its beginning
    for (auto& r : rolled_) {
      if (r.base == segment_) r.dropped_to = dropped_to_;
    }
    segment_ = segment_base;
    dropped_to_ = 0;
  }
  const auto keep = static_cast<std::uint64_t>(keep_bytes);
  drop_rolled_behind(io, segment_base, durable_end, keep, file_of);
  if (durable_end <= keep) return;
  const std::uint64_t until = (durable_end - keep) / page_bytes * page_bytes;
  if (until < dropped_to_ + step_bytes(keep)) return;
  const std::uint64_t from =
      dropped_to_ > largest_folio_bytes ? dropped_to_ - largest_folio_bytes : 0;
  const log_file* f = file_of(segment_base);
  if (f == nullptr) return;
  io.drop_cache_later(f->fd(), from, until - from, f->path().native());
  dropped_to_ = until;
}

// Rolled segments wholly behind the durable end are durable. Walking back from the newest, the
// first one with at least `keep` durable bytes after it is dropped to its end, and so is every
// older one.
void cache_drop_behind::drop_rolled_behind(io::backend& io, offset durable_segment,
                                           std::uint64_t durable_end, std::uint64_t keep,
                                           const file_lookup& file_of) {
  std::size_t durable = 0;  // rolled_[0, durable) lie behind the segment of the durable end
  while (durable < rolled_.size() && rolled_[durable].base < durable_segment) ++durable;
  std::uint64_t after = durable_end;
  std::size_t droppable = 0;  // rolled_[0, droppable) are dropped now
  for (std::size_t i = durable; i > 0; --i) {
    if (after >= keep) {
      droppable = i;
      break;
    }
    after += rolled_[i - 1].size;
  }
  for (std::size_t i = 0; i < droppable; ++i) {
    const rolled_segment& r = rolled_[i];
    const log_file* f = file_of(r.base);
    if (f == nullptr) continue;  // gone already
    const std::uint64_t from =
        r.dropped_to > largest_folio_bytes ? r.dropped_to - largest_folio_bytes : 0;
    // To the end of its last page: a sealed segment's partial last page goes too.
    const std::uint64_t end = (r.size + page_bytes - 1) / page_bytes * page_bytes;
    if (end > from) io.drop_cache_later(f->fd(), from, end - from, f->path().native());
  }
  rolled_.erase(rolled_.begin(), rolled_.begin() + static_cast<std::ptrdiff_t>(droppable));
}

}  // namespace sluice
