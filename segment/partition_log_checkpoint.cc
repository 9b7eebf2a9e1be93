// Checkpoints of a partition log: the synchronous writer used by the slow paths (retention,
// truncation, a new leader epoch, close) and the periodic checkpoint that runs through the
// backend, so that a shard with many partitions does not stall on their fdatasyncs.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "segment/atomic_file.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/partition_log.h"

namespace sluice {
namespace {

// Its own name, so that a checkpoint written synchronously meanwhile (whose checkpoint.tmp is
// renamed away) never shares its file. Removed on open like every leftover .tmp file.
constexpr const char* periodic_tmp_name = "periodic.checkpoint.tmp";

}  // namespace

// The descriptors of one periodic checkpoint in flight, closed when the last handler lets go:
// the index descriptors are duplicates, so a roll or deletion meanwhile cannot reuse them.
struct partition_log::checkpoint_job {
  std::uint64_t generation = 0;
  partition_checkpoint cp;
  std::vector<int> fds;
  std::vector<std::string> names;  // of what fds[i] refers to, for errors
  std::size_t remaining = 0;
  std::optional<error> first_error;

  checkpoint_job() = default;
  checkpoint_job(const checkpoint_job&) = delete;
  checkpoint_job& operator=(const checkpoint_job&) = delete;
  ~checkpoint_job() {
    for (int fd : fds) ::close(fd);
  }
};

partition_checkpoint partition_log::make_checkpoint(bool clean) const {
  partition_checkpoint cp;
  cp.clean = clean;
  cp.log_start_offset = log_start_;
  const position from = recovery_floor();
  cp.recovery_point = from.next;
  cp.recovery_segment = from.segment_base;
  cp.recovery_position = from.pos;
  cp.leader_epochs = epochs_;
  return cp;
}

partition_log::position partition_log::recovery_floor() const {
  for (const auto& u : unsynced_seals_) {
    if (!segments_.contains(u.segment_base)) continue;  // deleted or cut away since
    if (durable_.next > u.segment_base) return {u.segment_base, u.segment_base, file_pos{0}};
    break;
  }
  return durable_;
}

result<void> partition_log::store_checkpoint(const partition_checkpoint& cp) {
  ++checkpoint_generation_;
  return write_checkpoint(dir_, cp);
}

result<void> partition_log::checkpoint() {
  if (offline_) return error{make_error_code(log_errc::log_offline), offline_->detail};
  // Index entries below the recovery point must be on disk before the checkpoint trusts them.
  if (auto r = active().flush_indexes(); !r) return r;
  partition_checkpoint cp = make_checkpoint(false);
  if (auto r = store_checkpoint(cp); !r) return r;
  checkpointed_ = cp;
  last_checkpoint_ms_ = clock_.now_ms();
  return {};
}

void partition_log::start_periodic_checkpoint() {
  if (checkpoint_in_flight_ || closing_ || offline_) return;
  last_checkpoint_ms_ = clock_.now_ms();
  auto job = std::make_shared<checkpoint_job>();
  job->generation = ++checkpoint_generation_;
  job->cp = make_checkpoint(false);
  // Index entries below the recovery point are in the active segment's indexes (a roll syncs
  // the sealed segment's); their fdatasyncs and checkpoint.tmp's run at once, and the rename
  // waits for all three.
  active().write_pending_index_entries();  // the fdatasyncs below must cover them
  for (const auto& index : active().index_files()) {
    const int copy = ::fcntl(index.fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      spdlog::warn("{}: checkpoint skipped: dup of an index descriptor: {}", dir_.string(),
                   std::strerror(errno));
      return;
    }
    job->fds.push_back(copy);
    job->names.push_back(index.path.string());
  }
  auto tmp = write_unsynced_file(dir_ / periodic_tmp_name, as_bytes(render_checkpoint(job->cp)));
  if (!tmp) {
    spdlog::warn("{}: checkpoint failed: {}", dir_.string(), tmp.error().message());
    return;
  }
  job->fds.push_back(*tmp);
  job->names.push_back((dir_ / periodic_tmp_name).string());
  checkpoint_in_flight_ = true;
  job->remaining = job->fds.size();
  for (std::size_t i = 0; i < job->fds.size(); ++i) {
    io_.async_datasync(job->fds[i], job->names[i],
                       [this, alive = std::weak_ptr<bool>(alive_), job](result<void> r) {
                         if (alive.expired()) return;
                         if (!r && !job->first_error) job->first_error = r.error();
                         if (--job->remaining > 0) return;
                         if (job->first_error) {
                           discard_periodic_tmp();
                           return end_periodic_checkpoint(job->first_error);
                         }
                         install_periodic_checkpoint(job);
                       });
  }
}

void partition_log::install_periodic_checkpoint(const std::shared_ptr<checkpoint_job>& job) {
  // A checkpoint written synchronously since is newer (a log start moved up, a truncation
  // intent): this one must not replace it.
  if (job->generation != checkpoint_generation_ || offline_) {
    discard_periodic_tmp();
    return end_periodic_checkpoint(std::nullopt);
  }
  // The rename drops the old checkpoint's last name, and the last reference to a nameless file
  // frees its blocks: on a `discard` mount a synchronous discard, 0.1-15 ms each, 100 times a
  // second with 1 000 partitions (perf/RESULTS.md). Held open here, it is freed by the
  // backend's close instead, off this thread.
  const int replaced = ::open((dir_ / checkpoint_file_name).c_str(), O_RDONLY | O_CLOEXEC);
  auto renamed = rename_file(dir_ / periodic_tmp_name, dir_ / checkpoint_file_name);
  if (replaced >= 0) io_.close_later(replaced, checkpoint_file_name);
  if (!renamed) return end_periodic_checkpoint(renamed.error());
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return end_periodic_checkpoint(make_errno_error(errno, "open directory " + dir_.string()));
  }
  job->fds.push_back(dir_fd);
  io_.async_fsync(dir_fd, dir_.string(),
                  [this, alive = std::weak_ptr<bool>(alive_), job](result<void> r) {
                    if (alive.expired()) return;
                    if (!r) return end_periodic_checkpoint(r.error());
                    if (job->generation == checkpoint_generation_) checkpointed_ = job->cp;
                    end_periodic_checkpoint(std::nullopt);
                  });
}

// A periodic checkpoint that will not be installed leaves no file behind. Best effort: a
// leftover is never read (recovery reads only `checkpoint`) and the next one overwrites it.
void partition_log::discard_periodic_tmp() const {
  if (::unlink((dir_ / periodic_tmp_name).c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("{}: removing {}: {}", dir_.string(), periodic_tmp_name, std::strerror(errno));
  }
}

void partition_log::end_periodic_checkpoint(const std::optional<error>& err) {
  if (err) spdlog::warn("{}: checkpoint failed: {}", dir_.string(), err->message());
  checkpoint_in_flight_ = false;
  maybe_finish_close();
}

}  // namespace sluice
