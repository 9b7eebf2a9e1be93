#include "segment/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "segment/errc.h"

namespace sluice {
namespace {

constexpr const char* magic_line = "sluice-checkpoint 1";

std::string render(const partition_checkpoint& cp) {
  std::string out = fmt::format("{}\nclean {}\nlog_start_offset {}\nrecovery_point {} {} {}\n",
                                magic_line, cp.clean ? 1 : 0, cp.log_start_offset,
                                cp.recovery_point, cp.recovery_segment, cp.recovery_position);
  out += fmt::format("truncate_to {}\nleader_epochs {}\n", cp.truncate_to, cp.leader_epochs.size());
  for (const auto& e : cp.leader_epochs) out += fmt::format("{} {}\n", e.epoch, e.start_offset);
  return out;
}

error corrupt(const std::filesystem::path& file, std::string_view what) {
  return make_error(log_errc::corrupt_log, fmt::format("{}: {}", file.string(), what));
}

// Reads "<key> <values...>" and checks the key.
bool expect_key(std::istream& in, std::string_view key) {
  std::string word;
  return static_cast<bool>(in >> word) && word == key;
}

result<partition_checkpoint> parse(std::istream& in, const std::filesystem::path& file) {
  std::string line;
  if (!std::getline(in, line) || line != magic_line) return corrupt(file, "bad first line");
  partition_checkpoint cp;
  int clean = 0;
  std::size_t epochs = 0;
  bool ok =
      expect_key(in, "clean") && in >> clean && expect_key(in, "log_start_offset") &&
      in >> cp.log_start_offset.value && expect_key(in, "recovery_point") &&
      in >> cp.recovery_point.value >> cp.recovery_segment.value >> cp.recovery_position.value &&
      expect_key(in, "truncate_to") && in >> cp.truncate_to.value &&
      expect_key(in, "leader_epochs") && in >> epochs;
  if (!ok || (clean != 0 && clean != 1)) return corrupt(file, "malformed header fields");
  cp.clean = clean == 1;
  for (std::size_t i = 0; i < epochs; ++i) {
    epoch_entry e;
    if (!(in >> e.epoch.value >> e.start_offset.value)) {
      return corrupt(file, fmt::format("expected {} leader epochs, found {}", epochs, i));
    }
    cp.leader_epochs.push_back(e);
  }
  std::string extra;
  if (in >> extra) return corrupt(file, "trailing data after the leader epochs");
  return cp;
}

result<void> write_all_and_sync(const std::filesystem::path& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_errno_error(errno, "create " + path.string());
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_errno_error(err, "write " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return make_errno_error(err, "fdatasync " + path.string());
  }
  ::close(fd);
  return {};
}

}  // namespace

result<std::optional<partition_checkpoint>> read_checkpoint(const std::filesystem::path& dir) {
  auto file = dir / checkpoint_file_name;
  std::ifstream in(file);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return std::optional<partition_checkpoint>{};
    return make_errno_error(EIO, "open " + file.string());
  }
  auto cp = parse(in, file);
  if (!cp) return cp.error();
  return std::optional<partition_checkpoint>{std::move(*cp)};
}

result<void> write_checkpoint(const std::filesystem::path& dir, const partition_checkpoint& cp) {
  auto tmp = dir / (std::string(checkpoint_file_name) + ".tmp");
  auto file = dir / checkpoint_file_name;
  if (auto r = write_all_and_sync(tmp, render(cp)); !r) return r;
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    return make_errno_error(errno, fmt::format("rename {} to {}", tmp.string(), file.string()));
  }
  return sync_directory(dir);
}

result<void> sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_errno_error(errno, "open directory " + dir.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return make_errno_error(err, "fsync directory " + dir.string());
  return {};
}

}  // namespace sluice
