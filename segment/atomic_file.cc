#include "segment/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

namespace sluice {
result<int> write_unsynced_file(const std::filesystem::path& tmp, byte_span contents) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_errno_error(errno, "create " + tmp.string());
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_errno_error(err, "write " + tmp.string());
    }
    done += static_cast<std::size_t>(n);
  }
  return fd;
}

result<void> rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return make_errno_error(errno, fmt::format("rename {} to {}", from.string(), to.string()));
  }
  return {};
}

result<void> replace_file_atomically(const std::filesystem::path& path, byte_span contents) {
  auto tmp = path;
  tmp += ".tmp";
  // A temp file left by a failure would hold disk blocks until the next open removes it; on a
  // full disk they may be what the next write needs.
  auto discard_tmp = [&tmp] { ::unlink(tmp.c_str()); };
  auto fd = write_unsynced_file(tmp, contents);
  if (!fd) {
    discard_tmp();
    return fd.error();
  }
  const int rc = ::fdatasync(*fd);
  const int err = errno;
  ::close(*fd);
  if (rc != 0) {
    discard_tmp();
    return make_errno_error(err, "fdatasync " + tmp.string());
  }
  if (auto r = rename_file(tmp, path); !r) {
    discard_tmp();
    return r;
  }
  // A bare file name ("ready") lives in the working directory.
  return sync_directory(path.has_parent_path() ? path.parent_path() : ".");
}

result<void> sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_errno_error(errno, "open directory " + dir.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return make_errno_error(err, "fsync directory " + dir.string());
  return {};
}

result<std::optional<byte_buffer>> read_whole_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<byte_buffer>{};
    return make_errno_error(errno, "open " + path.string());
  }
  byte_buffer out;
  std::byte chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_errno_error(err, "read " + path.string());
    }
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  ::close(fd);
  return std::optional<byte_buffer>{std::move(out)};
}

}  // namespace sluice
