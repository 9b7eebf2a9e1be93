#pragma once
// `sluice log dump|verify|recover ...`: the storage tool, folded in the way git runs
// git-<cmd>: the arguments go unchanged to the `sluice-log` binary installed next to `sluice`
// (else the one on PATH), which replaces this process. admin/ may not include segment/ headers
// (tests/layout/include_direction_test.sh), so the tool stays a separate program.

#include <CLI/CLI.hpp>

#include "admin/cli/command_context.h"

namespace sluice::cli {

void add_log_command(CLI::App& app, command_context& ctx);

}  // namespace sluice::cli
