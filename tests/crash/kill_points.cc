// The kill points of kill_points.h, as link-time wrappers (-Wl,--wrap=open,...) around the
// file-system calls the storage engine makes. Every wrapper calls the real function; when the
// configured point is reached for the n-th time it reports "kill <name>" on the ack fd (and in
// the file named by SLUICE_CRASH_KILL_REPORT, if set) and raises SIGKILL, before or after the
// real call as the point says.
//
// The wrappers only ever run on the thread that makes the call (the appender's io_context
// thread for everything recognised here); the state is atomic anyway because the pwrite
// backend's worker thread may make unrelated calls through them, and because the same wrappers
// are linked into sluiced-killpoints (tests/chaos/), where every broker shard calls them.

#include "tests/crash/kill_points.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <string>

#include "tests/crash/crash_config.h"

extern "C" {
int __real_open(const char* path, int flags, ...);
int __real_rename(const char* from, const char* to);
int __real_renameat2(int from_dir, const char* from, int to_dir, const char* to,
                     unsigned int flags);
int __real_fsync(int fd);
int __real_unlink(const char* path);
int __real_ftruncate(int fd, off_t size);
ssize_t __real_write(int fd, const void* data, size_t size);
}

namespace sluice::crash {
namespace {

struct kill_plan {
  std::string point;          // empty: no kill point armed
  std::atomic<long> left{0};  // reaching the point this many more times fires it
};

kill_plan& plan() {
  static kill_plan* p = [] {
    auto* k = new kill_plan;  // never destroyed: wrappers may run during exit
    const char* v = std::getenv(kill_at_env);
    std::string spec = v != nullptr ? v : "";
    auto colon = spec.rfind(':');
    if (colon != std::string::npos) {
      k->point = spec.substr(0, colon);
      k->left = std::stol(spec.substr(colon + 1));
    }
    return k;
  }();
  return *p;
}

std::atomic<int> report_fd{-1};
std::atomic<int> checkpoint_tmp_fd{-1};
std::atomic<bool> roll_pending{false};  // a new .log was created; its directory fsync is next

bool ends_with(const char* s, std::string_view suffix) {
  return s != nullptr && std::string_view(s).ends_with(suffix);
}

bool fd_is_log_file(int fd) {
  char buf[512];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  return n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).ends_with(".log");
}

// True when this is the n-th time `point` is reached: the caller then calls die().
bool fires(std::string_view point) {
  kill_plan& p = plan();
  return !p.point.empty() && p.point == point && p.left.fetch_sub(1) == 1;
}

[[noreturn]] void die(std::string_view point) {
  std::string line = "kill " + std::string(point) + "\n";
  if (int fd = report_fd.load(); fd >= 0) (void)__real_write(fd, line.data(), line.size());
  if (const char* file = std::getenv(kill_report_env); file != nullptr) {
    int fd = __real_open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) (void)__real_write(fd, line.data(), line.size());
  }
  ::raise(SIGKILL);
  std::abort();  // not reached
}

void reached(std::string_view point) {
  if (fires(point)) die(point);
}

}  // namespace

void set_kill_report_fd(int fd) {
  report_fd = fd;
}

}  // namespace sluice::crash

using namespace sluice::crash;

extern "C" {

int __wrap_open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
  }
  int fd = __real_open(path, flags, mode);
  if (fd < 0) return fd;
  if (ends_with(path, "checkpoint.tmp")) checkpoint_tmp_fd = fd;
  if ((flags & O_EXCL) != 0 && ends_with(path, ".log")) {
    roll_pending = true;
    reached("segment_created");
  }
  return fd;
}

ssize_t __wrap_write(int fd, const void* data, size_t size) {
  if (fd >= 0 && fd == checkpoint_tmp_fd.load() && size > 1 && fires("checkpoint_tmp_torn")) {
    (void)__real_write(fd, data, size / 2);
    die("checkpoint_tmp_torn");
  }
  return __real_write(fd, data, size);
}

int __wrap_rename(const char* from, const char* to) {
  bool is_checkpoint = ends_with(from, "checkpoint.tmp");
  if (is_checkpoint) {
    checkpoint_tmp_fd = -1;
    reached("checkpoint_before_rename");
  }
  int rc = __real_rename(from, to);
  if (rc == 0 && is_checkpoint) reached("checkpoint_after_rename");
  return rc;
}

// Recycled segment files (partition_log::recycle_segments) are renamed, not unlinked and
// created: retention's rename of a .log takes its name away as an unlink would, and a roll's
// rename of a kept file makes the new .log exist before its indexes, as an open would.
int __wrap_renameat2(int from_dir, const char* from, int to_dir, const char* to,
                     unsigned int flags) {
  int rc = __real_renameat2(from_dir, from, to_dir, to, flags);
  if (rc != 0) return rc;
  if (ends_with(from, ".log") && ends_with(to, ".recycle")) reached("segment_deleted");
  if (ends_with(from, ".recycle") && ends_with(to, ".log")) {
    roll_pending = true;
    reached("segment_created");
  }
  return rc;
}

int __wrap_fsync(int fd) {
  int rc = __real_fsync(fd);
  if (rc == 0 && roll_pending.exchange(false)) reached("segment_rolled");
  return rc;
}

int __wrap_unlink(const char* path) {
  int rc = __real_unlink(path);
  if (rc == 0 && ends_with(path, ".log")) reached("segment_deleted");
  return rc;
}

int __wrap_ftruncate(int fd, off_t size) {
  int rc = __real_ftruncate(fd, size);
  if (rc == 0 && fd_is_log_file(fd)) reached("log_truncated");
  return rc;
}

}  // extern "C"
