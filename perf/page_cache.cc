#include "perf/page_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::bench {

result<void> drop_cached_pages(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_errno_error(errno, "open " + file.string());
  const int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // returns the error
  ::close(fd);
  if (err != 0) return make_errno_error(err, "posix_fadvise(DONTNEED) " + file.string());
  return {};
}

result<void> drop_cached_pages_under(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    if (auto r = drop_cached_pages(entry.path()); !r) return r;
  }
  if (ec) return make_errno_error(ec.value(), "list " + dir.string());
  return {};
}

}  // namespace sluice::bench
