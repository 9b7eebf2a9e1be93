#include "segment/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "segment/atomic_file.h"
#include "segment/errc.h"

namespace sluice {
namespace {

constexpr const char* magic_line = "sluice-checkpoint 1";

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

}  // namespace

std::string render_checkpoint(const partition_checkpoint& cp) {
  std::string out = fmt::format("{}\nclean {}\nlog_start_offset {}\nrecovery_point {} {} {}\n",
                                magic_line, cp.clean ? 1 : 0, cp.log_start_offset,
                                cp.recovery_point, cp.recovery_segment, cp.recovery_position);
  out += fmt::format("truncate_to {}\nleader_epochs {}\n", cp.truncate_to, cp.leader_epochs.size());
  for (const auto& e : cp.leader_epochs) out += fmt::format("{} {}\n", e.epoch, e.start_offset);
  return out;
}

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
  return replace_file_atomically(dir / checkpoint_file_name, as_bytes(render_checkpoint(cp)));
}

}  // namespace sluice
