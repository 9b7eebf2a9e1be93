#include "perf/baseline.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
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

// Writes chunks of next_length(bytes written so far) bytes until it says 0, then fdatasyncs; the
// clock runs from the first pwrite to the end of the fdatasync.
result<baseline_result> run(const std::filesystem::path& path, std::size_t chunk_size,
                            const std::function<std::size_t(std::uint64_t)>& next_length) {
  baseline_file f(path);
  if (f.fd() < 0) return make_errno_error(errno, "create " + path.string());
  const byte_buffer chunk = random_chunk(chunk_size);
  baseline_result out;
  const auto start = steady::now();
  for (std::size_t len = next_length(0); len > 0; len = next_length(out.bytes)) {
    if (auto r = write_fully(f, byte_span(chunk).first(len), out.bytes); !r) return r.error();
    out.bytes += len;
  }
  if (::fdatasync(f.fd()) != 0) return make_errno_error(errno, "fdatasync " + path.string());
  out.elapsed = steady::now() - start;
  if (auto r = drop_cached_pages(path); !r) return r.error();  // see page_cache.h
  return out;
}

}  // namespace

double baseline_result::mb_per_s() const {
  if (elapsed.count() <= 0) return 0;
  return static_cast<double>(bytes) / 1e6 / elapsed.count();
}

result<baseline_result> write_baseline_bytes(const std::filesystem::path& file, std::uint64_t bytes,
                                             std::size_t chunk) {
  return run(file, chunk, [bytes, chunk](std::uint64_t written) {
    return static_cast<std::size_t>(std::min<std::uint64_t>(chunk, bytes - written));
  });
}

result<baseline_result> write_baseline_for(const std::filesystem::path& file,
                                           std::chrono::duration<double> duration,
                                           std::size_t chunk) {
  const auto deadline = steady::now() + std::chrono::duration_cast<steady::duration>(duration);
  return run(file, chunk, [deadline, chunk](std::uint64_t) -> std::size_t {
    return steady::now() < deadline ? chunk : 0;
  });
}

}  // namespace sluice::bench
