#include "perf/baseline.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "perf/page_cache.h"
#include "protocol/bytes.h"

namespace sluice::bench {
namespace {

using steady = std::chrono::steady_clock;

// Closes the descriptor however the baseline ends; the file stays (see baseline.h).
class baseline_file {
 public:
  explicit baseline_file(std::filesystem::path path)
      : path_(std::move(path)), fd_(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)) {}
  ~baseline_file() {
    if (fd_ >= 0) ::close(fd_);
  }
  baseline_file(const baseline_file&) = delete;
  baseline_file& operator=(const baseline_file&) = delete;

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_;
};

byte_buffer random_chunk(std::size_t size) {
  byte_buffer chunk(size);
  std::mt19937_64 rng(7);
  for (auto& b : chunk) b = static_cast<std::byte>(rng() >> 56);
  return chunk;
}

result<void> write_fully(const baseline_file& f, byte_span data, std::uint64_t pos) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(f.fd(), data.data(), data.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_errno_error(errno, fmt::format("pwrite {} at {}", f.path().string(), pos));
    data = data.subspan(static_cast<std::size_t>(n));
    pos += static_cast<std::uint64_t>(n);
  }
  return {};
}

result<std::uint64_t> free_bytes(const std::filesystem::path& file) {
  struct statvfs st {};
  if (::statvfs(file.parent_path().c_str(), &st) != 0) {
    return make_errno_error(errno, "statvfs " + file.parent_path().string());
  }
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

// Keeps writeback of the file moving behind the writer: [start, end) was just written.
class write_behind {
 public:
  write_behind(const baseline_file& f, const baseline_options& o) : f_(f), o_(o) {}

  // Starts writeback of the step that ends at `written`, then waits for the step
  // `writeback_window` steps back and drops its pages.
  result<void> step_done(std::uint64_t written) {
    const std::uint64_t step = o_.writeback_step;
    if (auto r = range(written - step, SYNC_FILE_RANGE_WRITE); !r) return r;
    const std::uint64_t lag = step * o_.writeback_window;
    if (written < lag + step) return {};
    const std::uint64_t old = written - lag - step;
    const unsigned wait =
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if (auto r = range(old, wait); !r) return r;
    (void)::posix_fadvise(f_.fd(), static_cast<off_t>(old), static_cast<off_t>(step),
                          POSIX_FADV_DONTNEED);
    return {};
  }

 private:
  result<void> range(std::uint64_t from, unsigned flags) const {
    if (::sync_file_range(f_.fd(), static_cast<off_t>(from), static_cast<off_t>(o_.writeback_step),
                          flags) != 0) {
      return make_errno_error(errno, "sync_file_range " + f_.path().string());
    }
    return {};
  }

  const baseline_file& f_;
  const baseline_options& o_;
};

// Whether to stop early: checked once per step, cheap next to writing it.
result<bool> out_of_space(const baseline_file& f, const baseline_options& o) {
  auto space = free_bytes(f.path());
  if (!space) return space.error();
  return *space < o.min_free_bytes;
}

}  // namespace

double baseline_result::mb_per_s() const {
  if (elapsed.count() <= 0) return 0;
  return static_cast<double>(bytes) / 1e6 / elapsed.count();
}

result<baseline_result> write_baseline_for(const std::filesystem::path& path,
                                           std::chrono::duration<double> duration,
                                           const baseline_options& opts) {
  baseline_file f(path);
  if (f.fd() < 0) return make_errno_error(errno, "create " + path.string());
  const byte_buffer chunk = random_chunk(opts.chunk);
  write_behind behind(f, opts);
  baseline_result out;
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(duration);
  while (steady::now() < deadline) {
    if (auto r = write_fully(f, chunk, out.bytes); !r) return r.error();
    const std::uint64_t before = out.bytes;
    out.bytes += chunk.size();
    if (before / opts.writeback_step == out.bytes / opts.writeback_step) continue;
    if (auto r = behind.step_done(out.bytes / opts.writeback_step * opts.writeback_step); !r) {
      return r.error();
    }
    auto full = out_of_space(f, opts);
    if (!full) return full.error();
    if (*full) {
      out.stopped_for_space = true;
      break;
    }
  }
  if (::fdatasync(f.fd()) != 0) return make_errno_error(errno, "fdatasync " + path.string());
  out.elapsed = steady::now() - start;
  if (auto r = drop_cached_pages(path); !r) return r.error();  // see page_cache.h
  return out;
}

result<baseline_result> write_sync_cycles_for(const std::filesystem::path& path,
                                              std::chrono::duration<double> duration,
                                              std::uint64_t cycle_bytes,
                                              const baseline_options& opts) {
  baseline_file f(path);
  if (f.fd() < 0) return make_errno_error(errno, "create " + path.string());
  const byte_buffer chunk = random_chunk(opts.chunk);
  baseline_result out;
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(duration);
  std::uint64_t next_space_check = 0;
  while (steady::now() < deadline) {
    for (std::uint64_t left = cycle_bytes; left > 0;) {
      const std::size_t n = std::min<std::uint64_t>(left, chunk.size());
      if (auto r = write_fully(f, byte_span(chunk).first(n), out.bytes); !r) return r.error();
      out.bytes += n;
      left -= n;
    }
    if (::fdatasync(f.fd()) != 0) return make_errno_error(errno, "fdatasync " + path.string());
    if (out.bytes < next_space_check) continue;
    next_space_check = out.bytes + opts.writeback_step;
    auto full = out_of_space(f, opts);
    if (!full) return full.error();
    if (*full) {
      out.stopped_for_space = true;
      break;
    }
  }
  out.elapsed = steady::now() - start;
  if (auto r = drop_cached_pages(path); !r) return r.error();
  return out;
}

}  // namespace sluice::bench
