#pragma once
// The exit codes of `sluice`, which scripts may rely on (documented in `sluice --help` and
// README.md), and the one place that decides which code an error means.

#include <string_view>

#include "protocol/result.h"

namespace sluice::cli {

enum class exit_code : int {
  ok = 0,
  failed = 1,     // an operation failed: a broker error, records that were not stored
  usage = 2,      // bad arguments
  no_broker = 3,  // no broker could be reached
};

[[nodiscard]] constexpr int to_int(exit_code c) {
  return static_cast<int>(c);
}

// Whether `e` says no broker could be reached at all (refused, unreachable, unresolvable, no
// address), as opposed to a broker that answered with an error.
[[nodiscard]] bool is_connection_failure(const error& e);

// The exit code for a failed operation: no_broker for a connection failure, else failed.
[[nodiscard]] exit_code exit_code_for(const error& e);

// Prints "sluice: <what>: <why>" on stderr, one line, and returns exit_code_for(e).
exit_code report_failure(std::string_view what, const error& e);

// Prints "sluice: <message>" on stderr and returns exit_code::usage.
exit_code report_usage(std::string_view message);

}  // namespace sluice::cli
