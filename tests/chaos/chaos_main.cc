// sluice-chaos: the broker-level chaos harness (tests/chaos/README.md). Producers (acks=1,
// flush=always, idempotent) write to a real sluiced that is SIGKILLed at random moments and at
// chosen points (segment roll, retention deletion, checkpoint replacement), and paused with
// SIGSTOP for longer than the clients' request timeout; then a consumer reads everything back.
//
// stdout: exactly one line, `cycles=N acked=N lost=N duplicated=N corrupted=N`
// stderr: the seed (to replay a run), progress, and what went wrong
// exit:   0 when nothing acknowledged is lost or corrupted, nothing is duplicated, the log has
//         no holes, and the clients recovered from every kill and pause; 1 otherwise; 2 for
//         bad options.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>

#include "tests/chaos/campaign.h"

int main(int argc, char** argv) {
  using sluice::chaos::campaign_options;
  campaign_options o;
  std::random_device rd;
  o.seed = (std::uint64_t{rd()} << 32U) | rd();
  std::int64_t pause_ms = o.pause_for.count();
  std::int64_t request_timeout_ms = o.request_timeout.count();
  std::string data_dir;

  CLI::App app{"sluice-chaos: SIGKILL and SIGSTOP a broker under producers, then check the log"};
  app.add_option("--cycles", o.cycles, "random kill cycles")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--partitions", o.partitions, "partitions of the topic `chaos`")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--producers", o.producers, "producer threads, one producer each")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--seconds-per-cycle", o.seconds_per_cycle,
                 "mean time the broker runs before a random kill (uniform in [0.2, 1.8] x this)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  app.add_option("--seed", o.seed, "seed of every random choice (default: random, printed)");
  app.add_option("--pause-every", o.pause_every,
                 "every n-th random cycle also SIGSTOPs the broker; 0: never")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--pause-ms", pause_ms, "how long a pause lasts (keep it > --request-timeout-ms)")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  app.add_option("--request-timeout-ms", request_timeout_ms, "the producers' request timeout")
      ->capture_default_str()
      ->check(CLI::Range(100, 600'000));
  app.add_option("--kill-point-rounds", o.kill_point_rounds,
                 "cycles per kill point (segment roll, retention deletion, checkpoint "
                 "replacement); 0: none")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_option("--data-dir", data_dir,
                 "where the broker's data goes (kept); default: a "
                 "temporary directory, removed afterwards");
  CLI11_PARSE(app, argc, argv);
  o.pause_for = std::chrono::milliseconds(pause_ms);
  o.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  o.data_dir = data_dir;

  std::fprintf(stderr, "sluice-chaos: seed %llu\n", static_cast<unsigned long long>(o.seed));
  const auto start = std::chrono::steady_clock::now();
  try {
    auto r = sluice::chaos::run_campaign(o);
    const auto& v = r.v;
    std::fprintf(
        stderr,
        "sluice-chaos: %.1f s; read %llu records: %llu acked expired by retention, "
        "%llu unacknowledged present, holes %llu, reordered %llu, bad bytes %llu\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
        static_cast<unsigned long long>(v.records_read), static_cast<unsigned long long>(v.expired),
        static_cast<unsigned long long>(v.unacked_present),
        static_cast<unsigned long long>(v.holes), static_cast<unsigned long long>(v.reordered),
        static_cast<unsigned long long>(v.bad_bytes));
    for (const auto& p : v.problems) std::fprintf(stderr, "sluice-chaos: problem: %s\n", p.c_str());
    for (const auto& f : r.failures) std::fprintf(stderr, "sluice-chaos: FAILED: %s\n", f.c_str());
    std::fputs(fmt::format("cycles={} acked={} lost={} duplicated={} corrupted={}\n", r.cycles,
                           v.acked, v.lost, v.duplicated, v.corrupted)
                   .c_str(),
               stdout);
    if (!r.passed()) {
      std::fprintf(stderr, "sluice-chaos: FAILED (replay with --seed %llu)\n",
                   static_cast<unsigned long long>(o.seed));
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice-chaos: FAILED: %s (replay with --seed %llu)\n", e.what(),
                 static_cast<unsigned long long>(o.seed));
    std::fputs("cycles=0 acked=0 lost=0 duplicated=0 corrupted=0\n", stdout);
    return 1;
  }
}
