#include "index/time_index.h"

#include <fmt/format.h>

#include "index/errc.h"
#include "index/index_format.h"

namespace sluice {

result<time_index> time_index::open(const std::filesystem::path& path, offset base,
                                    std::size_t max_bytes) {
  auto file = index_file::open(path, index_format::time_entry_size, max_bytes);
  if (!file) return file.error();
  return time_index(std::move(*file), base);
}

time_index::entry time_index::decode(std::size_t i) const {
  const auto raw = index_format::decode_time_entry(file_.entry(i));
  return {raw.timestamp, base_ + raw.relative_offset};
}

std::optional<time_index::entry> time_index::entry_at(std::size_t i) const {
  if (i >= entry_count()) return std::nullopt;
  return decode(i);
}

std::optional<time_index::entry> time_index::last_entry() const {
  if (entry_count() == 0) return std::nullopt;
  return decode(entry_count() - 1);
}

std::optional<time_index::entry> time_index::lookup(std::int64_t timestamp) const {
  const std::size_t n =
      file_.partition_point([&](std::size_t i) { return decode(i).timestamp <= timestamp; });
  if (n == 0) return std::nullopt;
  return decode(n - 1);
}

bool time_index::append(std::int64_t timestamp, offset off) {
  SLUICE_ASSERT(off >= base_);
  SLUICE_ASSERT(static_cast<std::uint64_t>(off - base_) <= index_format::max_u32);
  const entry last = last_entry().value_or(entry{index_format::no_timestamp, base_});
  if (timestamp <= last.timestamp) return false;
  SLUICE_ASSERT(off >= last.offset);
  // A full index drops the entry: this happens to the final entry offered on roll when the
  // roll was caused by a full time index. Lookups stay correct (they land on an earlier
  // entry and scan further).
  if (is_full()) return false;
  file_.append(index_format::encode(
      index_format::time_entry_bytes{timestamp, static_cast<std::uint32_t>(off - base_)}));
  return true;
}

void time_index::truncate_to(offset off) {
  // Offsets never decrease, so the entries at or above `off` are a suffix.
  file_.truncate_to_entries(
      file_.partition_point([&](std::size_t i) { return decode(i).offset < off; }));
}

void time_index::clear() {
  file_.truncate_to_entries(0);
}

result<void> time_index::sanity_check() const {
  // Offsets are >= base by construction: the file stores them as unsigned base-relative.
  std::optional<entry> prev;
  for (std::size_t i = 0; i < entry_count(); ++i) {
    const entry e = decode(i);
    const bool ordered = !prev || (e.timestamp > prev->timestamp && e.offset >= prev->offset);
    if (!ordered) {
      return make_error(index_errc::corrupt_index,
                        fmt::format("{}: entry {} (timestamp {}, offset {}) does not follow "
                                    "entry {} (timestamp {}, offset {})",
                                    path().string(), i, e.timestamp, e.offset, i - 1,
                                    prev->timestamp, prev->offset));
    }
    prev = e;
  }
  return {};
}

result<void> time_index::flush() {
  return file_.flush();
}
result<void> time_index::trim() {
  return file_.trim();
}
result<void> time_index::regrow() {
  return file_.regrow();
}
result<void> time_index::close() {
  return file_.close();
}

}  // namespace sluice
