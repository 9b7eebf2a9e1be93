#pragma once
// `sluice perf produce|consume|e2e`: load generators and latency measurements against a
// running broker, like kafka-producer-perf-test and kafka-consumer-perf-test.

#include <CLI/CLI.hpp>

#include "admin/cli/command_context.h"
#include "admin/cli/perf_options.h"

namespace sluice::cli {

void add_perf_commands(CLI::App& app, command_context& ctx);

exit_code run_perf_produce(const command_context& ctx, const perf_options& o);
exit_code run_perf_consume(const command_context& ctx, const perf_options& o);
exit_code run_perf_e2e(const command_context& ctx, const perf_options& o);

}  // namespace sluice::cli
