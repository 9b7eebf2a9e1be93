#pragma once
// Exit codes of sluice-log, shared by every subcommand.

#include <string>

#include "protocol/result.h"

namespace sluice::log_tool {

enum class exit_status : int {
  ok = 0,          // nothing wrong (dump, verify) or recovery done (recover)
  corruption = 1,  // the log holds a torn, corrupt or inconsistent byte
  failure = 2,     // bad usage, a path that is not a partition, or an I/O error
};

[[nodiscard]] constexpr int to_int(exit_status s) {
  return static_cast<int>(s);
}

// An error that is only a message, for usage problems ("DIR: no such directory"): it has no
// error code, so error::message() is the message as written.
[[nodiscard]] inline error usage_error(std::string message) {
  return error{boost::system::error_code{}, std::move(message)};
}

// An errno error (reading or listing failed) rather than a finding about the data.
[[nodiscard]] inline bool is_io_error(const error& e) {
  return e.code.category() == boost::system::system_category();
}

}  // namespace sluice::log_tool
