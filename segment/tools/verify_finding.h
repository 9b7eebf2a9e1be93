#pragma once
// What `sluice-log verify` reports when it finds a problem.

#include <filesystem>
#include <optional>
#include <string>

#include "protocol/strong_types.h"

namespace sluice::log_tool {

// The first problem found: the file it is in, the first offset that cannot be trusted and the
// byte position in the .log where it starts (when they apply), and what is wrong.
struct verify_finding {
  std::filesystem::path file;
  std::optional<offset> first_bad_offset;
  std::optional<file_pos> position;
  std::string what;
};

// "corrupt: <file>: offset <o>, position <p>: <what>"
[[nodiscard]] std::string format_finding(const verify_finding& finding);

}  // namespace sluice::log_tool
