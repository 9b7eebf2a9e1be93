#pragma once
// Everything `sluiced` is told at start-up: flags, or the same keys in a config file
// (--config FILE, TOML or INI; flags win). See `sluiced --help` and docs/operations.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "broker/topic_config.h"
#include "protocol/result.h"
#include "segment/io/backend.h"
#include "segment/io/fault_spec.h"
#include "segment/log_config.h"

namespace sluice {

struct broker_config {
  std::filesystem::path data_dir;
  std::string host = "0.0.0.0";  // address to listen on
  std::string advertised_host;   // what Metadata tells clients; default: host, or 127.0.0.1
  std::uint16_t port = 9190;     // 0: an ephemeral port (see ready_file)
  std::optional<std::filesystem::path> ready_file;  // gets the bound port once accepting
  std::int32_t broker_id = 0;
  std::size_t shards = 0;  // 0: one per core
  // How long a shard keeps polling for work after its last before it sleeps. 0 (default):
  // sleep at once. Buys latency (no wake-up per request at moderate rates) with CPU, which on
  // a machine with few cores the clients and the I/O workers may need more (perf/RESULTS.md).
  std::chrono::microseconds busy_poll{0};
  io::backend_kind io_backend = io::backend_kind::automatic;

  config_overrides topic_defaults;  // broker-wide defaults for topic configs
  log_config log_defaults;          // topic_defaults applied over the built-in defaults

  std::chrono::milliseconds retention_check_interval{300'000};
  std::uint32_t max_request_bytes = 100U << 20;              // one frame
  std::size_t max_connection_in_flight_bytes = 64ULL << 20;  // unanswered request bytes
  std::size_t max_in_flight_bytes = 512ULL << 20;  // requests + responses in memory, all conns
  std::size_t max_connections = 10'000;
  std::chrono::milliseconds idle_timeout{600'000};       // connection with no requests
  std::chrono::milliseconds frame_read_timeout{30'000};  // a started frame must finish
  std::chrono::milliseconds write_timeout{60'000};       // queued responses must make progress
  std::chrono::milliseconds shutdown_timeout{30'000};    // in-flight requests at SIGTERM
  std::uint64_t min_free_bytes = 64ULL << 20;  // appends refused below this much free space
  // The page cache the logs written to lately keep behind their durable ends, shared evenly
  // among them (segment/page_cache_budget.h); -1: no broker-wide cap.
  std::int64_t page_cache_budget_bytes = 512LL << 20;
  // Durable topics write new segments over the files retention deleted
  // (partition_log::recycle_segments), keeping up to one segment per partition past retention.
  bool recycle_segments = true;
  std::string log_level = "info";
  // TEST ONLY: I/O fault rules from the environment variable SLUICE_FAULT_INJECTION (never a
  // flag or a config key; see segment/io/fault_spec.h). Empty in production.
  std::vector<io::fault_rule> fault_rules;

  [[nodiscard]] std::string effective_advertised_host() const;
};

// Parses argv (and the --config file it names). Returns nullopt after --help/--version was
// printed (exit 0). Fails with a message saying which option is wrong and why.
[[nodiscard]] result<std::optional<broker_config>> parse_broker_config(int argc,
                                                                       const char* const* argv);

}  // namespace sluice
