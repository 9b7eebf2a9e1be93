#include "segment/page_release.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "segment/segment.h"

namespace sluice {

namespace {

#ifdef __NR_cachestat
constexpr long cachestat_syscall = __NR_cachestat;
#else
constexpr long cachestat_syscall = 451;  // the same on every architecture but alpha
#endif

// The kernel's struct cachestat_range and struct cachestat (linux/mman.h from 6.5 on).
struct cachestat_range {
  std::uint64_t off;
  std::uint64_t len;  // 0: to the end of the file
};
struct cachestat_counts {
  std::uint64_t nr_cache;
  std::uint64_t nr_dirty;
  std::uint64_t nr_writeback;
  std::uint64_t nr_evicted;
  std::uint64_t nr_recently_evicted;
};

std::uint64_t system_page_bytes() {
  return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

result<std::uint64_t> cached_bytes_by_mincore(int fd, std::uint64_t length,
                                              const std::filesystem::path& path) {
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return make_errno_error(errno, "map " + path.string());
  std::vector<unsigned char> resident((length + system_page_bytes() - 1) / system_page_bytes());
  const int rc = ::mincore(map, length, resident.data());
  const int err = errno;
  ::munmap(map, length);
  if (rc != 0) return make_errno_error(err, "look at the cached pages of " + path.string());
  const auto pages = std::count_if(resident.begin(), resident.end(),
                                   [](unsigned char r) { return (r & 1U) != 0; });
  return static_cast<std::uint64_t>(pages) * system_page_bytes();
}

// Whether the file's pages are its own page cache mapping's, which is all cachestat looks at.
// Not on overlayfs or FUSE passthrough, whose data pages are another file's: there cachestat
// says 0 while a socket holds pages, and mincore (which follows the mapping) must answer.
bool pages_are_its_own(int fd) {
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) return false;
  switch (static_cast<unsigned long>(st.f_type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case TMPFS_MAGIC:
      return true;
    default:
      return false;
  }
}

result<std::uint64_t> cached_bytes_of_open(int fd, std::uint64_t length,
                                           const std::filesystem::path& path) {
  if (length == 0) return std::uint64_t{0};
  if (!pages_are_its_own(fd)) return cached_bytes_by_mincore(fd, length, path);
  cachestat_range range{0, 0};
  cachestat_counts counts{};
  if (::syscall(cachestat_syscall, fd, &range, &counts, 0) == 0) {
    return counts.nr_cache * system_page_bytes();
  }
  // ENOSYS before Linux 6.5, or EPERM from a container's syscall filter: mincore says the same.
  return cached_bytes_by_mincore(fd, length, path);
}

struct file_to_look_at {
  std::unique_ptr<log_file> file;  // read-only; closes it
  std::uint64_t length = 0;
};

result<file_to_look_at> open_to_look_at(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_errno_error(errno, "open " + path.string());
  file_to_look_at opened{std::make_unique<log_file>(fd, path)};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_errno_error(errno, "stat " + path.string());
  opened.length = static_cast<std::uint64_t>(st.st_size);
  return opened;
}

}  // namespace

result<std::uint64_t> cached_bytes(const std::filesystem::path& path) {
  auto opened = open_to_look_at(path);
  if (!opened) return opened.error();
  return cached_bytes_of_open(opened->file->fd(), opened->length, path);
}

result<bool> release_cached_pages(const std::filesystem::path& path) {
  auto opened = open_to_look_at(path);
  if (!opened) return opened.error();
  const int fd = opened->file->fd();
  if (opened->length == 0) return true;
  if (const int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); err != 0) {
    return make_errno_error(err, "drop the cached pages of " + path.string());
  }
  auto cached = cached_bytes_of_open(fd, opened->length, path);
  if (!cached) return cached.error();
  return *cached == 0;
}

bool files_live_in_page_cache(const std::filesystem::path& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return false;
  return st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC;
}

}  // namespace sluice
