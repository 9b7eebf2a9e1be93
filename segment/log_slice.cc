#include "segment/log_slice.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "segment/segment.h"

namespace sluice {

result<byte_buffer> log_slice::read_bytes() const {
  byte_buffer out(size);
  std::size_t got = 0;
  while (got < size) {
    ssize_t n =
        ::pread(file->fd(), out.data() + got, size - got, static_cast<off_t>(position.value + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return make_errno_error(
          n < 0 ? errno : EIO,
          fmt::format("read {} at {}", file->path().string(), position.value + got));
    }
    got += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace sluice
