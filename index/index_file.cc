#include "index/index_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "index/errc.h"

namespace sluice {
namespace {

// The size of the file at `path`, 0 if it does not exist.
result<std::size_t> existing_size(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec == std::errc::no_such_file_or_directory) return std::size_t{0};
  if (ec) return make_errno_error(ec.value(), fmt::format("stat {}", path.string()));
  return static_cast<std::size_t>(size);
}

error bad_size(const std::filesystem::path& path, std::size_t size, std::size_t entry_size) {
  return make_error(index_errc::corrupt_index,
                    fmt::format("{}: size {} is not a multiple of the entry size {}", path.string(),
                                size, entry_size));
}

}  // namespace

result<index_file> index_file::open(const std::filesystem::path& path, std::size_t entry_size,
                                    std::size_t max_bytes) {
  SLUICE_ASSERT(entry_size > 0);
  if (max_bytes < entry_size) {
    return make_error(index_errc::bad_max_size,
                      fmt::format("{}: max size {} is smaller than one entry ({} bytes)",
                                  path.string(), max_bytes, entry_size));
  }
  // Check before open() preallocates, so a corrupt file is left as it was found.
  auto size = existing_size(path);
  if (!size) return size.error();
  if (*size % entry_size != 0) return bad_size(path, *size, entry_size);

  const std::size_t rounded_max = max_bytes / entry_size * entry_size;
  auto file = mmap_file::open(path, rounded_max);
  if (!file) return file.error();
  const std::size_t size_at_open = file->file_size_at_open();
  if (size_at_open % entry_size != 0) return bad_size(path, size_at_open, entry_size);

  index_file index(std::move(*file), entry_size, rounded_max, 0);
  index.count_ = index.count_entries(size_at_open);
  return index;
}

std::size_t index_file::count_entries(std::size_t size_at_open) const {
  const std::size_t in_file = size_at_open / entry_size_;
  if (size_at_open < max_bytes_) {  // trimmed: drop only a zeroed tail
    std::size_t n = in_file;
    while (n > 0 && is_zero_entry(n - 1)) --n;
    return n;
  }
  // Preallocated and never trimmed: pages may have reached the disk in any order, so trust
  // only the prefix before the first hole.
  std::size_t n = 0;
  while (n < in_file && !is_zero_entry(n)) ++n;
  return n;
}

bool index_file::is_zero_entry(std::size_t i) const {
  const std::byte* p = file_.data() + i * entry_size_;
  return std::all_of(p, p + entry_size_, [](std::byte b) { return b == std::byte{0}; });
}

const std::byte* index_file::entry(std::size_t i) const {
  SLUICE_ASSERT(i < count_);
  const std::size_t in_file = count_ - pending_.size() / entry_size_;
  if (i >= in_file) return pending_.data() + (i - in_file) * entry_size_;
  return file_.data() + i * entry_size_;
}

void index_file::append(std::span<const std::byte> bytes) {
  SLUICE_ASSERT(!is_full());
  SLUICE_ASSERT(bytes.size() == entry_size_);
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  ++count_;
}

void index_file::write_pending() {
  if (pending_.empty()) return;
  const std::size_t in_file = count_ - pending_.size() / entry_size_;
  if (!file_.write_at(in_file * entry_size_, pending_)) {
    std::memcpy(file_.data() + in_file * entry_size_, pending_.data(), pending_.size());
  }
  pending_.clear();
}

result<void> index_file::reserve_next() {
  if (is_full()) return {};
  return file_.reserve((count_ + 1) * entry_size_);
}

void index_file::truncate_to_entries(std::size_t n) {
  SLUICE_ASSERT(n <= count_);
  if (n == count_) return;
  write_pending();
  std::memset(file_.data() + n * entry_size_, 0, (count_ - n) * entry_size_);
  count_ = n;
}

result<void> index_file::flush() {
  write_pending();
  return file_.sync();
}

result<void> index_file::trim() {
  return resize(count_ * entry_size_);
}

result<void> index_file::regrow() {
  if (file_.capacity() >= max_bytes_) return {};
  return resize(max_bytes_);
}

result<void> index_file::resize(std::size_t bytes) {
  write_pending();
  auto resized = file_.resize(bytes);
  // After a failed remap the object holds no mapping: keep only what it can still read, so
  // the index degrades to "no entries" (lookups scan from the segment start) instead of
  // touching memory it does not own.
  count_ = std::min(count_, max_entries());
  return resized;
}

result<void> index_file::close() {
  if (!file_.is_open()) return {};
  auto trimmed = trim();  // writes what is pending first
  auto closed = file_.close();
  count_ = 0;
  if (!trimmed) return trimmed;
  return closed;
}

}  // namespace sluice
