#include "segment/tools/log_recover.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "segment/checkpoint.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/tools/partition_dir.h"

namespace sluice::log_tool {
namespace fs = std::filesystem;

namespace {

std::string scan_text(const recovery_report& r) {
  if (r.clean && r.bytes_scanned == 0) {
    return "clean shutdown: nothing re-scanned (recover --full re-validates every batch)";
  }
  return fmt::format(
      "{}: re-scanned {} batches ({} bytes)",
      r.clean ? "clean shutdown, but a segment did not match its index" : "no clean shutdown",
      r.batches_scanned, r.bytes_scanned);
}

std::string cut_text(const recovery_report& r) {
  // Zeros a broker kept ahead of its appends (segment/zero_tail.h) are not damage.
  const std::string zeros =
      r.zeros_trimmed == 0
          ? ""
          : fmt::format(" ({} bytes of zeros after the last batch cut off)", r.zeros_trimmed);
  if (!r.cut_at) return "cut: nothing" + zeros;
  return fmt::format("cut: at offset {}, {} bytes truncated: {}{}", *r.cut_at, r.bytes_truncated,
                     r.cut_reason, zeros);
}

// Runs the log's io_context until close() has completed.
result<void> close_log(partition_log& log, boost::asio::io_context& ctx) {
  std::optional<result<void>> done;
  log.close([&](result<void> r) { done = std::move(r); });
  ctx.restart();
  while (!done && ctx.run_one() > 0) {
  }
  if (!done) return make_error(log_errc::log_closed, "close() did not complete");
  return *done;
}

// Rewrites a readable checkpoint so that open() re-scans from the first segment's start. An
// unreadable or missing checkpoint already makes open() scan everything.
result<void> distrust_checkpoint(const partition_target& target) {
  auto cp = read_checkpoint(target.dir);
  if (!cp || !*cp) return {};
  partition_checkpoint rescan = **cp;
  rescan.clean = false;
  rescan.recovery_point = rescan.recovery_segment = target.segments.front().base;
  rescan.recovery_position = file_pos{0};
  return write_checkpoint(target.dir, rescan);
}

// The broker's lock on its data directory (`<data dir>/.lock`, flock), taken for the length of
// the recovery: a running broker appends to the partition, and recovery would take its bytes
// in flight for a torn tail and cut them. A partition directory outside a data directory has
// no lock to take.
class data_dir_lock {
 public:
  static result<data_dir_lock> take(const fs::path& partition_dir) {
    const auto path = fs::absolute(partition_dir).parent_path() / ".lock";
    data_dir_lock lock;
    lock.fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (lock.fd_ < 0) {
      if (errno == ENOENT) return lock;
      return make_errno_error(errno, "open " + path.string());
    }
    if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) {
      return make_errno_error(
          errno, fmt::format("{} belongs to a running sluiced (it holds {}): stop it first",
                             partition_dir.string(), path.string()));
    }
    return lock;
  }
  data_dir_lock(data_dir_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  data_dir_lock& operator=(data_dir_lock&&) = delete;
  ~data_dir_lock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  data_dir_lock() = default;
  int fd_ = -1;
};

result<void> recover(const fs::path& dir, std::FILE* out) {
  boost::asio::io_context ctx;
  auto backend = io::make_backend(ctx);
  auto log = partition_log::open(dir, log_config{}, *backend, ctx);
  if (!log) return log.error();
  fmt::print(out, "{}\n", format_recovery(dir, **log));
  if (auto r = close_log(**log, ctx); !r) return r;
  fmt::print(out, "closed cleanly\n");
  return {};
}

}  // namespace

std::string format_recovery(const fs::path& dir, const partition_log& log) {
  const recovery_report& r = log.last_recovery();
  return fmt::format(
      "recovered {}\n{}\n{}\nsegments deleted: {}\nlog start offset: {}\nlog end offset: {}\n"
      "segments: {}",
      dir.string(), scan_text(r), cut_text(r), r.segments_deleted, log.log_start_offset(),
      log.log_end_offset(), log.segment_count());
}

exit_status run_recover(const fs::path& path, const recover_options& opts, std::FILE* out) {
  auto target = locate_partition(path);
  if (target && target->single_file) {
    target = usage_error(fmt::format("{}: recover needs a partition directory", path.string()));
  }
  if (!target) {
    spdlog::error("{}", target.error().message());
    return exit_status::failure;
  }
  auto lock = data_dir_lock::take(target->dir);
  if (!lock) {
    spdlog::error("{}", lock.error().message());
    return exit_status::failure;
  }
  if (opts.full) {
    if (auto r = distrust_checkpoint(*target); !r) {
      spdlog::error("{}", r.error().message());
      return exit_status::failure;
    }
  }
  if (auto r = recover(target->dir, out); !r) {
    spdlog::error("recovery of {} failed: {}", target->dir.string(), r.error().message());
    return exit_status::failure;
  }
  return exit_status::ok;
}

}  // namespace sluice::log_tool
