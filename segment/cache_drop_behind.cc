#include "segment/cache_drop_behind.h"

#include "segment/io/backend.h"

namespace sluice {

namespace {
constexpr std::uint64_t page_bytes = 4096;
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
  if (until < dropped_to_ + min_step_bytes) return;
  io.drop_cache_later(fd, dropped_to_, until - dropped_to_, what);
  dropped_to_ = until;
}

}  // namespace sluice
