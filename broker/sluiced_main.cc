// sluiced: the Sluice broker. `sluiced --data-dir DIR [--port N] [--config FILE]`; --help lists
// every option. Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when start-up or
// shutdown failed (the reason is logged), 2 for bad options.

#include <spdlog/spdlog.h>

#include <cstdio>

#include "broker/broker.h"
#include "broker/broker_config.h"

int main(int argc, char** argv) {
  auto config = sluice::parse_broker_config(argc, argv);
  if (!config) {
    std::fprintf(stderr, "sluiced: %s\n", config.error().detail.c_str());
    return 2;
  }
  if (!*config) return 0;  // --help or --version
  spdlog::set_level(spdlog::level::from_str((*config)->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%t] %v");
  sluice::broker b(std::move(**config));
  if (auto r = b.start(); !r) {
    spdlog::critical("start-up failed: {}", r.error().message());
    return 1;
  }
  if (auto r = b.run_until_signalled(); !r) {
    spdlog::critical("shutdown failed: {}", r.error().message());
    return 1;
  }
  return 0;
}
