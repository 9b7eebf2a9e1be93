#pragma once
// Runs a program to completion for integration tests, as a user would run it: arguments, extra
// environment, stdin from /dev/null, stdout and stderr captured in files (no pipes, so nothing
// can deadlock on a full pipe).
//
//   auto r = sluice::testing::run_program(bin_dir() / "example-admin", {broker.address(), "t"},
//                                         dir.path());
//   CHECK(r.exit_code == 0);   // r.out, r.err: what it printed

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::testing {

struct program_result {
  int exit_code = -1;      // -1: killed by a signal (or by the timeout)
  bool timed_out = false;  // still running after the timeout: SIGKILLed
  std::string out;
  std::string err;
};

// Runs `exe` with `args` and the environment plus `env` ("NAME=value"), waits up to `timeout`.
// Output files go to `work_dir` (created if missing). Throws std::runtime_error when `exe`
// cannot be started.
[[nodiscard]] program_result run_program(
    const std::filesystem::path& exe, const std::vector<std::string>& args,
    const std::filesystem::path& work_dir, const std::vector<std::string>& env = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace sluice::testing
