#include "admin/cli/standard_streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "admin/cli/stop_signal.h"

namespace sluice::cli {

namespace {

std::atomic<int> first_stdout_errno{0};

}  // namespace

void ensure_standard_fds_open() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int flags = fd == 1 ? O_RDONLY : O_WRONLY;
    // The lower descriptors are open, so this is `fd` itself.
    const int opened = ::open("/dev/null", flags);
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
}

bool write_and_flush(std::FILE* out, std::string_view text) {
  bool ok = text.empty() || std::fwrite(text.data(), 1, text.size(), out) == text.size();
  int err = ok ? 0 : errno;
  if (std::fflush(out) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok && out == stdout) {
    note_stdout_error(err);
    if (err == EPIPE) request_stop();
  }
  return ok;
}

void note_stdout_error(int err) {
  int none = 0;
  first_stdout_errno.compare_exchange_strong(none, err, std::memory_order_relaxed);
}

int stdout_error() {
  return first_stdout_errno.load(std::memory_order_relaxed);
}

exit_code check_stdout(exit_code code) {
  if (std::fflush(stdout) != 0) note_stdout_error(errno);
  int err = 0;
  if (std::ferror(stdout) != 0) err = stdout_error() != 0 ? stdout_error() : EIO;
  if (err == 0 || err == EPIPE || code != exit_code::ok) return code;
  return report_failure("write to stdout", make_errno_error(err, "stdout"));
}

}  // namespace sluice::cli
