#include "admin/cli/client_options.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdlib>

#include "admin/cli/key_value.h"
#include "admin/cli/timestamp_parse.h"
#include "protocol/client/broker_address.h"

namespace sluice::cli {

namespace {

CLI::Validator brokers_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto parsed = parse_broker_list(text);
        return parsed ? std::string() : parsed.error().message();
      },
      "HOST:PORT[,HOST:PORT...]");
}

}  // namespace

// Registered on the top level and on each command that talks to a broker, both bound to
// ctx.brokers: whichever is given on the command line sets it (the command's own wins, being
// parsed later), and resolve_brokers() fills in the environment or the default afterwards, so
// that a flag always beats $SLUICE_BROKERS.
void add_brokers_option(CLI::App& cmd, command_context& ctx) {
  cmd.add_option("--brokers", ctx.brokers,
                 fmt::format("brokers to bootstrap from, host:port[,host:port...] (port 9190 if "
                             "omitted); default: ${}, else {}",
                             brokers_env_var, default_brokers))
      ->check(brokers_validator());
}

std::optional<std::string> resolve_brokers(command_context& ctx) {
  if (!ctx.brokers.empty()) return std::nullopt;
  const char* env = std::getenv(brokers_env_var);
  if (env == nullptr || *env == '\0') {
    ctx.brokers = default_brokers;
    return std::nullopt;
  }
  auto parsed = parse_broker_list(env);
  if (!parsed) return fmt::format("${}: {}", brokers_env_var, parsed.error().message());
  ctx.brokers = env;
  return std::nullopt;
}

void add_producer_options(CLI::App& cmd, producer_options& o) {
  cmd.add_option("--acks", o.acks,
                 "0: no acknowledgement (and no idempotence); 1: after the broker made the batch "
                 "durable under the topic's flush policy; all (-1): every in-sync replica")
      ->check(CLI::IsMember({"0", "1", "-1", "all"}))
      ->capture_default_str();
  cmd.add_option("--linger-ms", o.linger_ms, "wait up to this long to fill a batch")
      ->check(CLI::Range(0, 60'000))
      ->capture_default_str();
  cmd.add_option("--batch-size", o.batch_size, "bytes per partition batch")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} << 20))
      ->capture_default_str();
  cmd.add_option("--compression", o.compression, "batch compression")
      ->check(CLI::IsMember({"none", "zstd"}))
      ->capture_default_str();
  cmd.add_option("--max-in-flight", o.max_in_flight,
                 "Produce requests unanswered at once (at most as many batches of a partition)")
      ->check(CLI::Range(1, idempotent_window_batches))
      ->capture_default_str();
}

producer_config make_producer_config(const command_context& ctx, const producer_options& o) {
  producer_config c;
  c.brokers = ctx.brokers;
  c.client_id = "sluice-cli";
  c.acks = o.acks == "all" ? -1 : std::stoi(o.acks);
  // Without acknowledgements there is nothing to retry, so nothing to deduplicate: the
  // producer refuses idempotence with acks=0.
  c.idempotence = c.acks != 0;
  c.linger = std::chrono::milliseconds(o.linger_ms);
  c.batch_size = o.batch_size;
  c.codec = o.compression == "zstd" ? compression::zstd : compression::none;
  c.max_in_flight = o.max_in_flight;
  return c;
}

consumer_config make_consumer_config(const command_context& ctx) {
  consumer_config c;
  c.brokers = ctx.brokers;
  c.client_id = "sluice-cli";
  return c;
}

admin_config make_admin_config(const command_context& ctx) {
  admin_config c;
  c.brokers = ctx.brokers;
  c.client_id = "sluice-cli";
  return c;
}

CLI::Validator key_value_validator(const std::string& option) {
  return CLI::Validator(
      [option](std::string& text) -> std::string {
        auto kv = parse_key_value(text, option);
        return kv ? std::string() : kv.error().detail;
      },
      "NAME=VALUE");
}

CLI::Validator timestamp_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto ms = parse_timestamp_ms(text);
        return ms ? std::string() : ms.error().detail;
      },
      "MS|ISO-8601");
}

CLI::Validator whole_number_validator(std::int64_t at_least, std::int64_t at_most) {
  return CLI::Validator(
      [at_least, at_most](std::string& text) -> std::string {
        std::int64_t n = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, n);
        const bool digits =
            !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || ec != std::errc() || ptr != end || n < at_least || n > at_most) {
          return fmt::format("expected a whole number from {} to {}, got '{}'", at_least, at_most,
                             text);
        }
        return {};
      },
      "N");
}

CLI::Validator positive_seconds_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double s = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, s);
        if (ec != std::errc() || ptr != end || !(s > 0) || s > 1e9) {
          return fmt::format("expected seconds above 0, got '{}'", text);
        }
        return {};
      },
      "SECONDS");
}

CLI::Validator rate_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double r = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, r);
        const bool unlimited = ec == std::errc() && ptr == end && r == -1;
        if (!unlimited && (ec != std::errc() || ptr != end || !(r >= 0.001) || r > 1e9)) {
          return fmt::format("expected -1 (unlimited) or 0.001 to 1e9 per second, got '{}'", text);
        }
        return {};
      },
      "RATE");
}

}  // namespace sluice::cli
