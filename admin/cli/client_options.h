#pragma once
// Options several subcommands share: the broker list, the producer's settings (produce and
// perf), and validators for arguments parsed by our own code, so that a bad value is a usage
// error (exit 2) reported by CLI11 like any other.

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "admin/admin.h"
#include "admin/cli/command_context.h"
#include "consumer/consumer.h"
#include "producer/producer.h"

namespace sluice::cli {

inline constexpr const char* default_brokers = "127.0.0.1:9190";

// --brokers HOST:PORT[,...] on `cmd` (the top level and every command that talks to a broker).
void add_brokers_option(CLI::App& cmd, command_context& ctx);
// After parsing: when no --brokers was given, ctx.brokers comes from SLUICE_BROKERS, else the
// default. Returns what is wrong with SLUICE_BROKERS when it cannot be parsed.
[[nodiscard]] std::optional<std::string> resolve_brokers(command_context& ctx);

struct producer_options {
  std::string acks = "1";
  int linger_ms = 5;
  std::size_t batch_size = 64 * 1024;
  std::string compression = "zstd";
  int max_in_flight = idempotent_window_batches;
};

// --acks, --linger-ms, --batch-size, --compression, --max-in-flight.
void add_producer_options(CLI::App& cmd, producer_options& o);
[[nodiscard]] producer_config make_producer_config(const command_context& ctx,
                                                   const producer_options& o);
[[nodiscard]] consumer_config make_consumer_config(const command_context& ctx);
[[nodiscard]] admin_config make_admin_config(const command_context& ctx);

// Accepts NAME=VALUE (see key_value.h).
[[nodiscard]] CLI::Validator key_value_validator(const std::string& option);
// Accepts what parse_timestamp_ms() accepts.
[[nodiscard]] CLI::Validator timestamp_validator();
// Accepts a whole number (digits only) in [at_least, at_most], saying which when it is not:
// CLI11's own range check printed 1.8e308 as the upper bound, and its conversion clamped an
// out-of-range number to the type's largest instead of refusing it.
[[nodiscard]] CLI::Validator whole_number_validator(
    std::int64_t at_least, std::int64_t at_most = std::numeric_limits<std::int64_t>::max());
// Accepts a number of seconds above 0 (fractions allowed).
[[nodiscard]] CLI::Validator positive_seconds_validator();
// A rate per second: -1 for unlimited, else 0.001 to 1e9 (NaN, infinities and tiny rates would
// make the pacing arithmetic meaningless).
[[nodiscard]] CLI::Validator rate_validator();

}  // namespace sluice::cli
