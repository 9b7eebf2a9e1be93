#pragma once
// One chaos run against a real sluiced (tests/integration/broker_process.h) on a fixed
// loopback port, so the producers keep their address, and with it their producer ids, through
// every restart:
//
//   1. Start the broker, create the topics: `chaos` (flush=always, 512 KiB segments, no
//      retention) and `chaos-retained` (flush=always, 16 KiB segments, retention.bytes 64 KiB,
//      so rolls and retention deletions happen all the time). Start the producers
//      (producer_fleet.h).
//   2. Cycles, in an order drawn from the seed. A random cycle lets the broker run for a random
//      time and SIGKILLs it; every pause_every-th one also SIGSTOPs it for pause_for (longer
//      than the clients' request timeout) half way through, SIGCONTs it and requires the
//      producers to make progress again. A kill-point cycle starts sluiced-killpoints instead
//      (sluiced linked with the storage crash test's wrappers, tests/crash/kill_points.h) with
//      SLUICE_CRASH_KILL_AT=<point>:<n>, so the broker kills itself the n-th time it reaches
//      the point: a segment roll (new .log created; roll done), a retention deletion, a
//      checkpoint replacement (torn checkpoint.tmp; before the rename; after it). The broker
//      is down for a random 0-300 ms after every kill, then started again.
//   3. Start the broker once more; the producers must make progress, then they stop and every
//      record has its outcome. Retention is switched off, and the log is read and checked
//      (log_verifier.h). The broker must then stop cleanly (SIGTERM, exit 0).
//
// Every random choice comes from `seed`, so a failing run can be replayed (timing aside).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/chaos/log_verifier.h"

namespace sluice::chaos {

struct campaign_options {
  int cycles = 200;    // random kill cycles (kill-point cycles come on top)
  int partitions = 4;  // of the topic `chaos`
  int producers = 3;
  double seconds_per_cycle = 1.0;  // mean time the broker runs before a random kill
  std::uint64_t seed = 0;
  int pause_every = 10;  // every n-th random cycle has a SIGSTOP/SIGCONT; 0: none
  std::chrono::milliseconds pause_for{2500};
  std::chrono::milliseconds request_timeout{1000};  // the producers'
  int kill_point_rounds = 1;                        // cycles per kill point
  std::filesystem::path data_dir;  // empty: a temporary directory, removed afterwards
};

struct campaign_result {
  int cycles = 0;  // broker lifetimes ended by a kill
  verdict v;
  std::vector<std::string> failures;  // harness-level: stuck clients, missed kill points, ...
  [[nodiscard]] bool passed() const { return v.passed() && failures.empty(); }
};

// Runs the campaign; progress and details go to stderr.
[[nodiscard]] campaign_result run_campaign(const campaign_options& options);

}  // namespace sluice::chaos
