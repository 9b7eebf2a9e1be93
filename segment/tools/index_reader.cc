#include "segment/tools/index_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "index/errc.h"
#include "index/index_format.h"
#include "protocol/bytes.h"

namespace sluice::log_tool {
namespace fs = std::filesystem;

namespace {

// The whole file, or nullopt when it does not exist.
result<std::optional<byte_buffer>> read_whole_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<byte_buffer>{};
  if (fd < 0) return make_errno_error(errno, "open " + path.string());
  byte_buffer out;
  std::byte chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_errno_error(err, "read " + path.string());
    }
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  ::close(fd);
  return std::optional<byte_buffer>{std::move(out)};
}

bool is_zero(byte_span entry) {
  return std::all_of(entry.begin(), entry.end(), [](std::byte b) { return b == std::byte{0}; });
}

// Reads the file at `path` and decodes its entries of `entry_size` bytes with decode(bytes).
template <class Entry, class Decode>
result<index_snapshot<Entry>> read_index(const fs::path& path, std::size_t entry_size,
                                         Decode decode) {
  auto bytes = read_whole_file(path);
  if (!bytes) return bytes.error();
  index_snapshot<Entry> snap;
  if (!*bytes) return snap;
  const byte_span all(**bytes);
  snap.present = true;
  snap.file_bytes = all.size();
  if (all.size() % entry_size != 0) {
    return make_error(index_errc::corrupt_index,
                      fmt::format("{}: size {} is not a multiple of the entry size {}",
                                  path.string(), all.size(), entry_size));
  }
  const std::size_t count = all.size() / entry_size;
  std::size_t i = 0;
  for (; i < count && !is_zero(all.subspan(i * entry_size, entry_size)); ++i) {
    snap.entries.push_back(decode(all.data() + i * entry_size));
  }
  for (std::size_t j = i + 1; j < count; ++j) {
    if (!is_zero(all.subspan(j * entry_size, entry_size))) ++snap.entries_after_hole;
  }
  if (snap.entries_after_hole > 0) snap.hole = i;
  return snap;
}

}  // namespace

result<offset_index_snapshot> read_offset_index(const fs::path& path, offset base) {
  return read_index<offset_index::entry>(
      path, index_format::offset_entry_size, [base](const std::byte* p) {
        const auto e = index_format::decode_offset_entry(p);
        return offset_index::entry{base + e.relative_offset, file_pos{e.position}};
      });
}

result<time_index_snapshot> read_time_index(const fs::path& path, offset base) {
  return read_index<time_index::entry>(
      path, index_format::time_entry_size, [base](const std::byte* p) {
        const auto e = index_format::decode_time_entry(p);
        return time_index::entry{e.timestamp, base + e.relative_offset};
      });
}

}  // namespace sluice::log_tool
