#include "admin/cli/log_command.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::cli {

namespace {

constexpr const char* tool_name = "sluice-log";

struct log_options {
  std::vector<std::string> args;
};

// The directory of the running executable, from /proc/self/exe (argv[0] may be a bare name).
std::filesystem::path own_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

// Replaces this process with sluice-log; returns only if it could not be started.
exit_code run_log(const command_context& /*ctx*/, const log_options& o) {
  std::vector<std::string> argv_text{tool_name};
  argv_text.insert(argv_text.end(), o.args.begin(), o.args.end());
  std::vector<char*> argv;
  argv.reserve(argv_text.size() + 1);
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto beside = own_dir() / tool_name;
  if (!beside.empty() && ::access(beside.c_str(), X_OK) == 0) ::execv(beside.c_str(), argv.data());
  ::execvp(tool_name, argv.data());
  return report_failure(
      std::string("run ") + tool_name,
      make_errno_error(errno, std::string(tool_name) + " is neither next to " + "sluice (" +
                                  beside.string() + ") nor on PATH"));
}

}  // namespace

void add_log_command(CLI::App& app, command_context& ctx) {
  auto o = std::make_shared<log_options>();
  auto* cmd = app.add_subcommand(
      "log", "Look inside a partition directory without a broker (runs sluice-log)");
  cmd->footer(
      "Runs the `sluice-log` next to this binary (else the one on PATH) with the same "
      "arguments:\n"
      "  sluice log dump DIR|FILE [--records] [--from-offset N] [--json]\n"
      "  sluice log verify DIR      (exit 1 at the first corrupt byte)\n"
      "  sluice log recover DIR [--full]\n"
      "`sluice log dump --help` etc. show each command's options.\n"
      "Exit codes are sluice-log's: 0 ok, 1 corruption found, 2 usage or I/O error.");
  // From the first positional argument on, everything goes through untouched, options included.
  cmd->prefix_command();
  cmd->callback([cmd, &ctx, o] {
    o->args = cmd->remaining();
    ctx.run = [&ctx, o] { return run_log(ctx, *o); };
  });
}

}  // namespace sluice::cli
