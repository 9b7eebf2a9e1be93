#pragma once
// Runs the real sluice-log binary (its path comes from the build: SLUICE_LOG_BIN) and captures
// what it prints and how it exits.

#include <filesystem>
#include <string>

namespace sluice::test {

struct tool_output {
  int exit_code = -1;
  std::string text;  // stdout, and stderr unless the run was stdout_only
};

// `args` is appended to the command line as it is (quote paths with quoted()).
tool_output run_sluice_log(const std::string& args);
// The same without stderr, for output a parser reads (--json).
tool_output run_sluice_log_stdout_only(const std::string& args);

// A path in single quotes for the shell.
std::string quoted(const std::filesystem::path& path);

// How many times `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle);

}  // namespace sluice::test
