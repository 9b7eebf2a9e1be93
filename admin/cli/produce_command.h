#pragma once
// `sluice produce TOPIC`: one record per input line (stdin or --file), keys split off with
// --key-separator, the same --header on every record; a summary on stderr at the end.

#include <CLI/CLI.hpp>

#include "admin/cli/command_context.h"

namespace sluice::cli {

void add_produce_command(CLI::App& app, command_context& ctx);

}  // namespace sluice::cli
