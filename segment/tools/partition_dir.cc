#include "segment/tools/partition_dir.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <system_error>

#include "segment/segment.h"
#include "segment/tools/tool_status.h"

namespace sluice::log_tool {
namespace fs = std::filesystem;

namespace {

segment_files files_for(const fs::path& dir, offset base) {
  const fs::path stem = dir / segment::file_stem(base);
  return {base, fs::path(stem).concat(".log"), fs::path(stem).concat(".index"),
          fs::path(stem).concat(".timeindex")};
}

result<partition_target> locate_file(const fs::path& path) {
  auto base = segment::parse_file_name(path.filename().string(), ".log");
  if (!base) {
    return usage_error(
        fmt::format("{}: not a .log file (expected a 20-digit base offset name)", path.string()));
  }
  partition_target target{path.parent_path(), true, {}};
  // Keep the path as given; the indexes sit beside it.
  segment_files files = files_for(target.dir, *base);
  files.log = path;
  target.segments.push_back(std::move(files));
  return target;
}

result<partition_target> locate_dir(const fs::path& dir) {
  partition_target target{dir, false, {}};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto base = segment::parse_file_name(entry.path().filename().string(), ".log");
    if (base) target.segments.push_back(files_for(dir, *base));
  }
  if (ec) return make_errno_error(ec.value(), "list " + dir.string());
  if (target.segments.empty()) {
    return usage_error(fmt::format("not a partition directory: no .log files in {}", dir.string()));
  }
  std::sort(target.segments.begin(), target.segments.end(),
            [](const segment_files& a, const segment_files& b) { return a.base < b.base; });
  return target;
}

}  // namespace

result<partition_target> locate_partition(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (fs::is_regular_file(status)) return locate_file(path);
  if (fs::is_directory(status)) return locate_dir(path);
  if (fs::exists(status)) {
    return usage_error(fmt::format("{}: neither a directory nor a .log file", path.string()));
  }
  return usage_error(fmt::format("{}: no such directory", path.string()));
}

}  // namespace sluice::log_tool
