#include "segment/cache_drop_behind.h"

#include <algorithm>

#include "segment/io/backend.h"

namespace sluice {

namespace {
constexpr std::uint64_t page_bytes = 4096;
}

std::uint64_t cache_drop_behind::step_bytes(std::uint64_t keep_bytes) {
  return std::clamp(keep_bytes / 4, min_step_bytes, max_step_bytes);
}

void cache_drop_behind::on_durable(io::backend& io, int fd, offset segment_base,
                                   std::uint64_t durable_end, std::int64_t keep_bytes,
                                   std::string_view what) {
  if (keep_bytes < 0) return;
  if (segment_base != segment_) {  // a new active segment: its drops start at its beginning
    segment_ = segment_base;
    dropped_to_ = 0;
  }
  const auto keep = static_cast<std::uint64_t>(keep_bytes);
  if (durable_end <= keep) return;
  const std::uint64_t until = (durable_end - keep) / page_bytes * page_bytes;
  if (until < dropped_to_ + step_bytes(keep)) return;
  const std::uint64_t from =
      dropped_to_ > largest_folio_bytes ? dropped_to_ - largest_folio_bytes : 0;
  io.drop_cache_later(fd, from, until - from, what);
  dropped_to_ = until;
}

}  // namespace sluice
