// sluice: the command-line tool of Sluice, like Kafka's console tools.
//   sluice topic create|list|describe|delete|alter ...
//   sluice produce TOPIC ...       sluice consume TOPIC ...
//   sluice perf produce|consume|e2e ...
//   sluice log dump|verify|recover ...   (runs sluice-log)
// Exit codes (exit_code.h, README.md): 0 ok, 1 operation failed, 2 usage, 3 no broker reachable.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <string>

#include "admin/cli/client_options.h"
#include "admin/cli/command_context.h"
#include "admin/cli/consume_command.h"
#include "admin/cli/exit_code.h"
#include "admin/cli/log_command.h"
#include "admin/cli/perf_commands.h"
#include "admin/cli/produce_command.h"
#include "admin/cli/topic_commands.h"
#include "protocol/api_versions.h"

namespace {

using namespace sluice::cli;

constexpr const char* exit_codes_help =
    "Brokers: --brokers host:port[,...] before or after the command, else $SLUICE_BROKERS, "
    "else 127.0.0.1:9190.\n"
    "Exit codes:\n"
    "  0  ok\n"
    "  1  an operation failed (a broker error, records not stored)\n"
    "  2  usage error (bad arguments)\n"
    "  3  cannot connect to any broker\n"
    "(`sluice log` exits with sluice-log's codes: 0 ok, 1 corruption, 2 usage or I/O error.)";

// "sluice topic create": the subcommands parsed before an error, to point at the right --help.
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands().front();
    path += " " + at->get_name();
  }
  return path;
}

// CLI11 reports a mistyped command as a missing one; say what was not understood instead.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  const auto extra = at->remaining();
  if (at->get_require_subcommand_min() > 0 && at->get_subcommands().empty() && !extra.empty()) {
    return fmt::format("unknown command '{}'", extra.front());
  }
  return e.what();
}

void build(CLI::App& app, command_context& ctx) {
  app.name("sluice");
  app.set_version_flag("--version", fmt::format("sluice {}", sluice::software_version));
  app.require_subcommand(1);
  app.footer(exit_codes_help);
  add_brokers_option(app, ctx);
  add_topic_commands(app, ctx);
  add_produce_command(app, ctx);
  add_consume_command(app, ctx);
  add_perf_commands(app, ctx);
  add_log_command(app, ctx);
}

// Output a command printed but stdout did not take (a full disk, a closed descriptor) fails the
// command: a script writing `> out.json` must not get an empty file and success. A reader that
// went away (`| head`) is a normal end.
exit_code check_stdout(exit_code code) {
  int err = 0;
  if (std::fflush(stdout) != 0) {
    err = errno;
  } else if (std::ferror(stdout) != 0) {
    err = EIO;
  }
  if (err == 0 || err == EPIPE || code != exit_code::ok) return code;
  return report_failure("write to stdout", sluice::make_errno_error(err, "stdout"));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice: topics, producing, consuming, benchmarks and log inspection for Sluice"};
  command_context ctx;
  build(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help (CallForHelp is a Success)
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "sluice: {} (see `{} --help`)\n", usage_message(app, e), command_path(app));
    return to_int(exit_code::usage);
  }
  if (auto bad = resolve_brokers(ctx)) {
    fmt::print(stderr, "sluice: {}\n", *bad);
    return to_int(exit_code::usage);
  }
  try {
    return to_int(check_stdout(ctx.run()));
  } catch (const std::exception& e) {  // misuse or a start-up failure inside a client library
    fmt::print(stderr, "sluice: {}\n", e.what());
    return to_int(exit_code::failed);
  }
}
