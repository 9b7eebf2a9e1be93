// sluiced: the Sluice broker. `sluiced --data-dir DIR [--port N] [--config FILE]`; --help lists
// every option. Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when start-up or
// shutdown failed (the reason is logged), 2 for bad options.

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "broker/broker.h"
#include "broker/broker_config.h"
#include "protocol/buffer_heap.h"

namespace {

// Every connection and every open segment file is a descriptor, and the usual soft limit
// (1024) is below --max-connections' default; the hard limit is what the administrator allows.
// Raise the soft limit to it, as a daemon should, and say what the broker has to work with.
void raise_open_files_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const auto soft_before = lim.rlim_cur;
  // An unlimited hard limit still stops at the kernel's fs.nr_open (1 Mi by default).
  const rlim_t target = lim.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : lim.rlim_max;
  if (lim.rlim_cur < target) {
    lim.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      spdlog::warn("could not raise the open-files limit from {} to {}: {}", soft_before, target,
                   std::strerror(errno));
      return;
    }
  }
  spdlog::info("open-files limit: {} (was {})", lim.rlim_cur, soft_before);
}

}  // namespace

int main(int argc, char** argv) {
  sluice::keep_freed_buffer_memory();
  auto config = sluice::parse_broker_config(argc, argv);
  if (!config) {
    std::fprintf(stderr, "sluiced: %s\n", config.error().detail.c_str());
    return 2;
  }
  if (!*config) return 0;  // --help or --version
  spdlog::set_level(spdlog::level::from_str((*config)->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%t] %v");
  raise_open_files_limit();
  // Fetch answers go out with sendfile(2), which has no MSG_NOSIGNAL: writing to a socket the
  // client has reset raises SIGPIPE, whose default action silently ended the whole broker.
  // Ignored, the write fails with EPIPE and only that connection closes.
  ::signal(SIGPIPE, SIG_IGN);
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
