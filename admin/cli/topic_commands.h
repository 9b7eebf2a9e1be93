#pragma once
// `sluice topic create|list|describe|delete|alter`: topics through the admin client.

#include <CLI/CLI.hpp>

#include "admin/cli/command_context.h"

namespace sluice::cli {

void add_topic_commands(CLI::App& app, command_context& ctx);

}  // namespace sluice::cli
