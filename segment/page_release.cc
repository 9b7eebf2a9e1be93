#include "segment/page_release.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "segment/segment.h"

namespace sluice {

result<bool> release_cached_pages(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_errno_error(errno, "open " + path.string());
  const log_file file(fd, path);  // closes it
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_errno_error(errno, "stat " + path.string());
  const auto length = static_cast<std::size_t>(st.st_size);
  if (length == 0) return true;
  if (const int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); err != 0) {
    return make_errno_error(err, "drop the cached pages of " + path.string());
  }
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return make_errno_error(errno, "map " + path.string());
  const long page = ::sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> resident((length + static_cast<std::size_t>(page) - 1) /
                                      static_cast<std::size_t>(page));
  const int rc = ::mincore(map, length, resident.data());
  const int err = errno;
  ::munmap(map, length);
  if (rc != 0) return make_errno_error(err, "look at the cached pages of " + path.string());
  return std::none_of(resident.begin(), resident.end(),
                      [](unsigned char r) { return (r & 1U) != 0; });
}

bool files_live_in_page_cache(const std::filesystem::path& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return false;
  return st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC;
}

}  // namespace sluice
