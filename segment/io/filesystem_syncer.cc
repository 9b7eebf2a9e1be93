#include "segment/io/filesystem_syncer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sluice::io {

namespace {

// syncfs has returned the filesystem's writeback errors since Linux 5.8; before, it returned 0.
bool syncfs_reports_errors() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0;
  int minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 5 || (major == 5 && minor >= 8);
}

}  // namespace

std::unique_ptr<filesystem_syncer> filesystem_syncer::open(const std::filesystem::path& root,
                                                           syncfs_call call) {
  if (!syncfs_reports_errors()) {
    spdlog::info(
        "syncfs does not report writeback errors on this kernel; each log file is "
        "fdatasync'd on its own under flush=interval");
    return nullptr;
  }
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    spdlog::warn("cannot open {} for syncfs ({}); each log file is fdatasync'd on its own",
                 root.string(), std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<filesystem_syncer>(new filesystem_syncer(fd, st.st_dev, call));
}

filesystem_syncer::~filesystem_syncer() {
  ::close(root_fd_);
}

sync_kind filesystem_sync_kind(const filesystem_syncer* syncer, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sync_kind::data;  // the fdatasync reports the bad fd
  if (syncer != nullptr && st.st_dev == syncer->device()) return sync_kind::filesystem;
  return S_ISDIR(st.st_mode) ? sync_kind::full : sync_kind::data;
}

long filesystem_syncer::sync() {
  if (failed_errno_ != 0) return -failed_errno_;
  int rc = 0;
  do {
    calls_.fetch_add(1, std::memory_order_relaxed);
    rc = call_(root_fd_);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return 0;
  failed_errno_ = errno;
  spdlog::error("syncfs failed: {}; nothing on this filesystem is called durable from now on",
                std::strerror(failed_errno_));
  return -failed_errno_;
}

void filesystem_syncer::serve(std::span<const std::unique_ptr<pending_op>> ops) {
  const long res = sync();
  for (const auto& op : ops) op->record(res);
}

}  // namespace sluice::io
