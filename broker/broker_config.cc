#include "broker/broker_config.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <limits>
#include <thread>

#include "broker/errc.h"
#include "protocol/api_versions.h"

namespace sluice {

std::string broker_config::effective_advertised_host() const {
  if (!advertised_host.empty()) return advertised_host;
  if (host == "0.0.0.0" || host == "::" || host.empty()) return "127.0.0.1";
  return host;
}

namespace {

struct raw_options {
  std::vector<std::string> topic_defaults;
  std::string backend = "auto";
  std::int64_t retention_check_ms = 300'000;
  std::int64_t idle_timeout_ms = 600'000;
  std::int64_t frame_read_timeout_ms = 30'000;
  std::int64_t write_timeout_ms = 60'000;
  std::int64_t shutdown_timeout_ms = 30'000;
  std::int64_t busy_poll_us = 0;
  std::string ready_file;
};

void add_options(CLI::App& app, broker_config& c, raw_options& raw) {
  // Connection timeouts in ms: from 1 ms to a year. Zero or negative ones closed every
  // connection at once; ones near the int64 limit overflowed "now + timeout" into the past.
  const CLI::Range timeout_ms(std::int64_t{1}, std::int64_t{365} * 24 * 3600 * 1000);
  app.set_config("--config", "", "read options from a TOML or INI file (flags win)");
  app.add_option("--data-dir", c.data_dir, "directory holding topics, partitions and metadata")
      ->required();
  app.add_option("--host", c.host, "address to listen on")->capture_default_str();
  app.add_option("--advertised-host", c.advertised_host,
                 "host clients are told to connect to (default: --host, or 127.0.0.1)");
  app.add_option("--port", c.port, "native protocol port; 0 picks a free one")
      ->capture_default_str();
  app.add_option("--ready-file", raw.ready_file,
                 "write the bound port to this file once accepting connections");
  app.add_option("--broker-id", c.broker_id, "this broker's id")->capture_default_str();
  app.add_option("--shards", c.shards, "shard threads (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--busy-poll-us", raw.busy_poll_us,
                 "shards keep polling this long after their last work before they sleep: lower "
                 "latency at moderate rates, for CPU (0: sleep at once)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000}))
      ->capture_default_str();
  app.add_option("--io-backend", raw.backend, "auto, io_uring or pwrite")
      ->check(CLI::IsMember({"auto", "io_uring", "pwrite"}))
      ->capture_default_str();
  app.add_option("--default-topic-config", raw.topic_defaults,
                 "broker-wide topic config default, k=v (repeatable), e.g. flush=interval:100");
  app.add_option("--retention-check-interval-ms", raw.retention_check_ms,
                 "how often retention runs")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{86'400'000}))
      ->capture_default_str();
  app.add_option("--max-request-bytes", c.max_request_bytes, "largest request frame accepted")
      ->check(CLI::Range(1U << 10, 1U << 30))
      ->capture_default_str();
  app.add_option("--max-connection-in-flight-bytes", c.max_connection_in_flight_bytes,
                 "unanswered request bytes per connection before reading pauses")
      ->capture_default_str();
  app.add_option("--max-in-flight-bytes", c.max_in_flight_bytes,
                 "request and response bytes held in memory across all connections; when "
                 "spent, connections read nothing more until some are answered (at least "
                 "--max-request-bytes)")
      ->capture_default_str();
  app.add_option("--max-connections", c.max_connections, "connections accepted at once")
      ->capture_default_str();
  app.add_option("--idle-timeout-ms", raw.idle_timeout_ms, "close connections idle this long")
      ->check(timeout_ms)
      ->capture_default_str();
  app.add_option("--frame-read-timeout-ms", raw.frame_read_timeout_ms,
                 "close a connection that starts a frame and does not finish it in this time")
      ->check(timeout_ms)
      ->capture_default_str();
  app.add_option("--write-timeout-ms", raw.write_timeout_ms,
                 "close a connection whose queued responses make no write progress for this "
                 "long (a client that stopped reading its socket)")
      ->check(timeout_ms)
      ->capture_default_str();
  app.add_option("--shutdown-timeout-ms", raw.shutdown_timeout_ms,
                 "on SIGTERM, wait this long for requests in flight")
      ->check(timeout_ms)
      ->capture_default_str();
  app.add_option("--min-free-bytes", c.min_free_bytes,
                 "refuse appends (not_enough_space) when the data dir's disk has less free")
      ->capture_default_str();
  app.add_option("--page-cache-budget-bytes", c.page_cache_budget_bytes,
                 "page cache the partitions written to lately keep behind what is durable, "
                 "shared evenly, each at most its topic's page.cache.keep.bytes; a partition "
                 "idle for 10 s drops what it kept (-1: no broker-wide cap)")
      ->check(CLI::Range(std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()))
      ->capture_default_str();
  app.add_flag("!--no-segment-recycling", c.recycle_segments,
               "delete every segment file retention drops, instead of keeping one per partition "
               "(flush=always topics) for the next segment to be written over in place");
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
}

result<config_overrides> parse_topic_defaults(const std::vector<std::string>& entries) {
  config_overrides out;
  for (const auto& e : entries) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(broker_errc::invalid_config,
                        fmt::format("--default-topic-config '{}': expected key=value", e));
    }
    out[e.substr(0, eq)] = e.substr(eq + 1);
  }
  return out;
}

result<void> finish(broker_config& c, const raw_options& raw) {
  auto defaults = parse_topic_defaults(raw.topic_defaults);
  if (!defaults) return defaults.error();
  c.topic_defaults = *defaults;
  auto log = apply_overrides(log_config{}, c.topic_defaults);
  if (!log) {
    return error{log.error().code, "--default-topic-config: " + log.error().detail};
  }
  c.log_defaults = *log;
  c.io_backend = raw.backend == "io_uring" ? io::backend_kind::io_uring
                 : raw.backend == "pwrite" ? io::backend_kind::pwrite
                                           : io::backend_kind::automatic;
  c.retention_check_interval = std::chrono::milliseconds(raw.retention_check_ms);
  c.idle_timeout = std::chrono::milliseconds(raw.idle_timeout_ms);
  c.frame_read_timeout = std::chrono::milliseconds(raw.frame_read_timeout_ms);
  c.write_timeout = std::chrono::milliseconds(raw.write_timeout_ms);
  if (c.max_in_flight_bytes < c.max_request_bytes) {
    return make_error(broker_errc::invalid_config,
                      fmt::format("--max-in-flight-bytes {} is below --max-request-bytes {}: "
                                  "the largest request could never be read",
                                  c.max_in_flight_bytes, c.max_request_bytes));
  }
  c.shutdown_timeout = std::chrono::milliseconds(raw.shutdown_timeout_ms);
  c.busy_poll = std::chrono::microseconds(raw.busy_poll_us);
  if (!raw.ready_file.empty()) c.ready_file = raw.ready_file;
  if (c.shards == 0) c.shards = std::max(1U, std::thread::hardware_concurrency());
  if (const char* spec = std::getenv(io::fault_injection_env_var); spec != nullptr) {
    auto rules = io::parse_fault_spec(spec);
    if (!rules) return make_error(broker_errc::invalid_config, rules.error().detail);
    c.fault_rules = std::move(*rules);
  }
  return {};
}

}  // namespace

result<std::optional<broker_config>> parse_broker_config(int argc, const char* const* argv) {
  CLI::App app{"sluiced: the Sluice log broker"};
  app.set_version_flag("--version", std::string(software_version));
  broker_config c;
  raw_options raw;
  add_options(app, c, raw);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion&) {
    fmt::print("{}\n", software_version);
    return std::optional<broker_config>{};
  } catch (const CLI::Success&) {
    std::fputs(app.help().c_str(), stdout);
    return std::optional<broker_config>{};
  } catch (const CLI::ParseError& e) {
    return make_error(broker_errc::invalid_config, e.what());
  }
  if (auto r = finish(c, raw); !r) return r.error();
  return std::optional<broker_config>{std::move(c)};
}

}  // namespace sluice
