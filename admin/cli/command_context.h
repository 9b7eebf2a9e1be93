#pragma once
// What every `sluice` subcommand shares: the broker list and the action the parsed subcommand
// chose. Each command file registers its subcommands with CLI11; the leaf that was parsed sets
// `run` from its callback, and main() calls it once parsing succeeded, so option structs only
// need to live as long as the CLI::App.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "admin/cli/exit_code.h"

namespace sluice::cli {

struct command_context {
  std::string brokers;             // --brokers, else SLUICE_BROKERS, else 127.0.0.1:9190
  std::function<exit_code()> run;  // set by the parsed leaf subcommand
};

// Makes `cmd`, when parsed, run `action(ctx, *options)`.
template <class Options, class Action>
void on_parsed(CLI::App& cmd, command_context& ctx, std::shared_ptr<Options> options,
               Action action) {
  cmd.callback([&ctx, options, action] {
    ctx.run = [&ctx, options, action] { return action(ctx, *options); };
  });
}

}  // namespace sluice::cli
