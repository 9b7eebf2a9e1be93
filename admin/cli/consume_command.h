#pragma once
// `sluice consume TOPIC`: print records from any offset or time, of one partition or all,
// up to the end offsets seen at the start (default) or following new records (--follow).

#include <CLI/CLI.hpp>

#include "admin/cli/command_context.h"

namespace sluice::cli {

void add_consume_command(CLI::App& app, command_context& ctx);

}  // namespace sluice::cli
