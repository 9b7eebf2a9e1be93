#include "segment/zero_tail.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <span>
#include <utility>

#include "segment/io/backend.h"

namespace sluice {

namespace {

const std::array<std::byte, zero_tail::chunk_bytes> zeros{};

}  // namespace

zero_tail::zero_tail(io::backend& io, written_handler on_written)
    : io_(io), on_written_(std::move(on_written)) {}

bool zero_tail::must_wait(const log_file& file, std::uint64_t start, std::uint64_t end) const {
  return in_flight_ && in_flight_->file.get() == &file && end > in_flight_->from &&
         start < in_flight_->to;
}

void zero_tail::extend_after(const std::shared_ptr<log_file>& file, std::uint64_t start,
                             std::uint64_t end) {
  if (end - start > small_write_bytes || in_flight_ || failed_.lock() == file) return;
  if (file_ != file) {
    file_ = file;
    zeroed_to_ = 0;
  }
  if (zeroed_to_ >= end + chunk_bytes / 2) return;
  // Whole pages, so the file never ends inside a page the next group commit writes again.
  const std::uint64_t to = (end + chunk_bytes) / page_bytes * page_bytes;
  const std::uint64_t from = std::max(zeroed_to_, end);
  in_flight_ = range{file, from, to};
  zeroed_to_ = to;
  io_.async_write_at(file->fd(), from, std::span<const std::byte>(zeros.data(), to - from),
                     fmt::format("{}{}", io::zeros_write_what, file->path().string()),
                     [this, alive = std::weak_ptr<bool>(alive_)](result<std::size_t> r) {
                       if (alive.expired()) return;
                       if (!r) {
                         // Appends go on past the end as they would without zeros ahead.
                         spdlog::warn("{}; no more zeros ahead in that file", r.error().message());
                       }
                       on_zero_write_done(r.has_value());
                     });
}

void zero_tail::on_zero_write_done(bool ok) {
  const range done = *std::exchange(in_flight_, std::nullopt);
  if (!ok) failed_ = done.file;  // it may have written part of its zeros: trim() still cuts
  std::shared_ptr<log_file> cut;
  if (auto end = std::exchange(trim_when_written_, std::nullopt)) {
    if (truncate(*done.file, *end)) cut = done.file;
  }
  on_written_(cut);
}

bool zero_tail::trim(const std::shared_ptr<log_file>& file, std::uint64_t end) {
  if (in_flight_ && in_flight_->file == file) trim_when_written_ = end;
  if (file_ != file) return false;
  file_.reset();
  return zeroed_to_ > end && truncate(*file, end);
}

void zero_tail::forget(const log_file& file) {
  if (file_.get() != &file) return;
  // A zero write still in flight lands after the cut and leaves its zeros for trim() to cut.
  zeroed_to_ = in_flight_ && in_flight_->file == file_ ? in_flight_->to : 0;
}

bool zero_tail::truncate(const log_file& file, std::uint64_t end) {
  auto r = io_.truncate(file.fd(), end, "cut the zeros off " + file.path().string());
  if (!r) spdlog::warn("{}; the log is re-scanned there when next opened", r.error().message());
  return r.has_value();
}

result<bool> zeros_kept_ahead(int fd, std::uint64_t from, std::uint64_t end,
                              const std::filesystem::path& path) {
  if (end % zero_tail::page_bytes != 0) return false;
  std::array<std::byte, 64 * 1024> buf{};
  for (std::uint64_t pos = from; pos < end;) {
    const std::size_t want = std::min<std::uint64_t>(buf.size(), end - pos);
    const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_errno_error(errno, fmt::format("read {} at {}", path.string(), pos));
    if (n == 0) break;  // shorter than it was a moment ago: nothing more to look at
    const auto got = std::span(buf).first(static_cast<std::size_t>(n));
    if (std::any_of(got.begin(), got.end(), [](std::byte b) { return b != std::byte{0}; })) {
      return false;
    }
    pos += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace sluice
