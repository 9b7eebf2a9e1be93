#include "index/offset_index.h"

#include <fmt/format.h>

#include "index/errc.h"
#include "index/index_format.h"

namespace sluice {

result<offset_index> offset_index::open(const std::filesystem::path& path, offset base,
                                        std::size_t max_bytes) {
  auto file = index_file::open(path, index_format::offset_entry_size, max_bytes);
  if (!file) return file.error();
  return offset_index(std::move(*file), base);
}

offset_index::entry offset_index::decode(std::size_t i) const {
  const auto raw = index_format::decode_offset_entry(file_.entry(i));
  return {base_ + raw.relative_offset, file_pos{raw.position}};
}

std::optional<offset_index::entry> offset_index::entry_at(std::size_t i) const {
  if (i >= entry_count()) return std::nullopt;
  return decode(i);
}

std::optional<offset_index::entry> offset_index::last_entry() const {
  if (entry_count() == 0) return std::nullopt;
  return decode(entry_count() - 1);
}

std::optional<offset_index::entry> offset_index::lookup(offset target) const {
  const std::size_t n =
      file_.partition_point([&](std::size_t i) { return decode(i).offset <= target; });
  if (n == 0) return std::nullopt;
  return decode(n - 1);
}

void offset_index::append(offset off, file_pos pos) {
  SLUICE_ASSERT(!is_full());
  SLUICE_ASSERT(off >= base_);
  SLUICE_ASSERT(static_cast<std::uint64_t>(off - base_) <= index_format::max_u32);
  SLUICE_ASSERT(pos.value <= index_format::max_u32);
  SLUICE_ASSERT(off != base_ || pos.value != 0);
  if (const auto last = last_entry()) {
    SLUICE_ASSERT(off > last->offset);
    SLUICE_ASSERT(pos > last->position);
  }
  file_.append(index_format::encode(index_format::offset_entry_bytes{
      static_cast<std::uint32_t>(off - base_), static_cast<std::uint32_t>(pos.value)}));
}

void offset_index::truncate_to(offset off) {
  file_.truncate_to_entries(
      file_.partition_point([&](std::size_t i) { return decode(i).offset < off; }));
}

void offset_index::clear() {
  file_.truncate_to_entries(0);
}

result<void> offset_index::sanity_check() const {
  // Offsets are >= base by construction: the file stores them as unsigned base-relative.
  std::optional<entry> prev;
  for (std::size_t i = 0; i < entry_count(); ++i) {
    const entry e = decode(i);
    const bool ordered = !prev || (e.offset > prev->offset && e.position > prev->position);
    if (!ordered) {
      return make_error(index_errc::corrupt_index,
                        fmt::format("{}: entry {} (offset {}, position {}) does not follow "
                                    "entry {} (offset {}, position {})",
                                    path().string(), i, e.offset, e.position, i - 1, prev->offset,
                                    prev->position));
    }
    prev = e;
  }
  return {};
}

result<void> offset_index::flush() {
  return file_.flush();
}
result<void> offset_index::trim() {
  return file_.trim();
}
result<void> offset_index::regrow() {
  return file_.regrow();
}
result<void> offset_index::close() {
  return file_.close();
}

}  // namespace sluice
