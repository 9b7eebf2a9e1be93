#include "tool_runner.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>

namespace sluice::test {

namespace {

tool_output run(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  tool_output out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.text.append(buf, n);
  const int status = ::pclose(pipe);
  REQUIRE_MESSAGE(WIFEXITED(status), command, " did not exit normally");
  out.exit_code = WEXITSTATUS(status);
  return out;
}

}  // namespace

tool_output run_sluice_log(const std::string& args) {
  return run(std::string(SLUICE_LOG_BIN) + " " + args + " 2>&1");
}

tool_output run_sluice_log_stdout_only(const std::string& args) {
  return run(std::string(SLUICE_LOG_BIN) + " " + args + " 2>/dev/null");
}

std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace sluice::test
