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
#include <system_error>

#include "admin/cli/client_options.h"
#include "admin/cli/command_context.h"
#include "admin/cli/consume_command.h"
#include "admin/cli/exit_code.h"
#include "admin/cli/log_command.h"
#include "admin/cli/perf_commands.h"
#include "admin/cli/produce_command.h"
#include "admin/cli/standard_streams.h"
#include "admin/cli/stop_signal.h"
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

// Whether the command that ran needs brokers: those that connect register --brokers on
// themselves (add_brokers_option); `sluice log` does not, so a bad $SLUICE_BROKERS is no
// business of it.
bool connects(const CLI::App& app) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  return at != &app && at->get_option_no_throw("--brokers") != nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_standard_fds_open();     // before anything opens a descriptor
  install_broken_pipe_handler();  // `| head`: EPIPE for every command, not a silent death
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
  if (connects(app)) {
    if (auto bad = resolve_brokers(ctx)) {
      fmt::print(stderr, "sluice: {}\n", *bad);
      return to_int(exit_code::usage);
    }
  }
  try {
    return to_int(check_stdout(ctx.run()));
  } catch (const std::system_error& e) {  // fmt::print throws when a write fails
    if (std::ferror(stdout) != 0) {       // output stdout did not take, as check_stdout judges it
      note_stdout_error(e.code().value());
      return to_int(check_stdout(exit_code::ok));
    }
    if (e.code() == std::errc::broken_pipe) return to_int(exit_code::ok);  // stderr's reader left
    std::fprintf(stderr, "sluice: %s\n", e.what());  // not fmt::print: stderr may be what failed
    return to_int(exit_code::failed);
  } catch (const std::exception& e) {  // misuse or a start-up failure inside a client library
    std::fprintf(stderr, "sluice: %s\n", e.what());
    return to_int(exit_code::failed);
  }
}
