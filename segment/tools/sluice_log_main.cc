// sluice-log: look inside a partition directory without a broker (like kafka-dump-log).
//   sluice-log dump DIR [--records] [--from-offset N] [--json]
//   sluice-log verify DIR
//   sluice-log recover DIR [--full]
// Exit codes (tool_status.h): 0 ok, 1 corruption found, 2 usage or I/O error.

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "segment/tools/log_dump.h"
#include "segment/tools/log_recover.h"
#include "segment/tools/log_verify.h"
#include "segment/tools/tool_status.h"

namespace {

using namespace sluice::log_tool;

struct command_line {
  std::string dir;
  dump_options dump;
  recover_options recover;
  std::int64_t from_offset = 0;
  bool json = false;
  bool verbose = false;
};

// Diagnostics (and the storage engine's own log lines) go to stderr, so stdout stays the
// report that scripts read.
void configure_logging(bool verbose) {
  auto logger = spdlog::stderr_logger_mt("sluice-log");
  logger->set_pattern("sluice-log: %l: %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void add_dir(CLI::App& cmd, command_line& cl, const char* what) {
  cmd.add_option("DIR", cl.dir, what)->required();
}

CLI::App* add_dump(CLI::App& app, command_line& cl) {
  auto* cmd = app.add_subcommand(
      "dump", "Print the checkpoint, each segment's index entry counts and every batch");
  add_dir(*cmd, cl, "partition directory (<topic>-<partition>) or one segment's .log file");
  cmd->add_flag("--records", cl.dump.records, "also print every record (zstd is decompressed)");
  cmd->add_option("--from-offset", cl.from_offset, "start at the batch holding this offset")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", cl.json, "one JSON object per line instead of text");
  return cmd;
}

CLI::App* add_verify(CLI::App& app, command_line& cl) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Check every batch (frame, CRC, records, offsets) and the indexes and checkpoint, "
      "read-only; exit 1 at the first problem");
  add_dir(*cmd, cl, "partition directory (<topic>-<partition>) or one segment's .log file");
  return cmd;
}

CLI::App* add_recover(CLI::App& app, command_line& cl) {
  auto* cmd = app.add_subcommand(
      "recover",
      "Run the broker's recovery on the directory (cuts a torn or corrupt tail, rebuilds "
      "indexes, writes a checkpoint) and report what it did");
  add_dir(*cmd, cl, "partition directory (<topic>-<partition>)");
  cmd->add_flag("--full", cl.recover.full,
                "re-validate every batch even after a clean shutdown (the checkpoint is "
                "rewritten first)");
  return cmd;
}

exit_status dispatch(const CLI::App& dump, const CLI::App& verify, command_line& cl) {
  const std::filesystem::path dir(cl.dir);
  if (dump.parsed()) {
    if (dump.count("--from-offset") > 0) cl.dump.from = sluice::offset{cl.from_offset};
    cl.dump.format = cl.json ? output_format::json : output_format::text;
    return run_dump(dir, cl.dump, stdout);
  }
  if (verify.parsed()) return run_verify(dir, stdout);
  return run_recover(dir, cl.recover, stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-log: dump, verify or recover a Sluice partition log directory"};
  app.require_subcommand(1);
  command_line cl;
  app.add_flag("-v,--verbose", cl.verbose, "debug logging on stderr");
  CLI::App* dump = add_dump(app, cl);
  CLI::App* verify = add_verify(app, cl);
  add_recover(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : to_int(exit_status::failure);
  }
  configure_logging(cl.verbose);
  try {
    return to_int(dispatch(*dump, *verify, cl));
  } catch (const std::exception& e) {  // start-up failures, e.g. a bad SLUICE_IO_BACKEND
    spdlog::error("{}", e.what());
    return to_int(exit_status::failure);
  }
}
