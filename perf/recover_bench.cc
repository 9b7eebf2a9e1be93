#include "perf/recover_bench.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "perf/append_driver.h"
#include "perf/batch_factory.h"
#include "perf/bench_shard.h"
#include "perf/page_cache.h"
#include "perf/scratch_dir.h"

namespace sluice::bench {
namespace {

using seconds_d = std::chrono::duration<double>;

constexpr std::uint64_t mib = 1ULL << 20;
constexpr batch_shape shape{1024, 64 * 1024};
constexpr int fill_appenders = 8;

struct recover_figures {
  std::uint64_t log_bytes = 0;
  std::size_t segments = 0;
  seconds_d clean_open{0};
  recovery_report clean;
  std::uint64_t tail_bytes = 0;
  seconds_d crash_open{0};
  recovery_report crash;
  std::string backend;
  std::string backend_choice;
};

double ms(seconds_d d) {
  return d.count() * 1000.0;
}

// Fast to write (acknowledged from the page cache, fdatasync'd once a second) and never
// checkpointed by itself, so the only checkpoints are the ones this benchmark asks for.
log_config fill_config() {
  log_config config;
  config.flush = flush_policy{flush_policy::mode::interval, std::chrono::milliseconds(1000)};
  config.checkpoint_interval = std::chrono::hours(24 * 365);
  return config;
}

// Appends `bytes` (rounded up to whole batches), then runs the loop until the flush timer has
// made all of it durable. Returns the bytes appended.
result<std::uint64_t> fill(bench_shard& shard, partition_log& log,
                           const std::vector<prebuilt_batch>& batches, std::uint64_t bytes) {
  append_driver driver(log, batches, fill_appenders);
  driver.limit_bytes(bytes);
  driver.start();
  shard.run_until([&] { return driver.finished(); });
  if (driver.failure()) return *driver.failure();
  shard.run_until([&] { return log.durable_end() == log.log_end_offset() || log.offline(); });
  if (log.offline()) return make_errno_error(EIO, "the log went offline while filling it");
  return driver.stats().bytes;
}

// A log of `bytes` whose checkpoint covers all of it, closed cleanly.
result<std::uint64_t> build_log(bench_shard& shard, const std::filesystem::path& dir,
                                const std::vector<prebuilt_batch>& batches, std::uint64_t bytes,
                                std::size_t& segments) {
  auto log = shard.open(dir, fill_config());
  if (!log) return log.error();
  auto written = fill(shard, **log, batches, bytes);
  if (!written) return written.error();
  if (auto r = (*log)->checkpoint(); !r) return r.error();
  segments = (*log)->segment_count();
  if (auto r = shard.close(std::move(*log)); !r) return r.error();
  return written;
}

// With --cold, the log's clean pages leave the page cache so the open reads the disk.
result<void> maybe_drop_cache(const recover_options& opts, const std::filesystem::path& dir) {
  return opts.cold ? drop_cached_pages_under(dir) : result<void>{};
}

// Clean open, then a tail past the checkpoint, a crash, and the open after it.
result<void> measure_opens(const recover_options& opts, bench_shard& shard,
                           const std::filesystem::path& dir,
                           const std::vector<prebuilt_batch>& batches, recover_figures& out) {
  if (auto r = maybe_drop_cache(opts, dir); !r) return r;
  fmt::print(stderr, "clean open...\n");
  auto log = shard.open(dir, fill_config(), &out.clean_open);
  if (!log) return log.error();
  out.clean = (*log)->last_recovery();
  fmt::print(stderr, "appending the {} MiB tail...\n", opts.tail_mib);
  auto tail = fill(shard, **log, batches, opts.tail_mib * mib);
  if (!tail) return tail.error();
  out.tail_bytes = *tail;
  shard.crash(std::move(*log));
  if (auto r = maybe_drop_cache(opts, dir); !r) return r;
  fmt::print(stderr, "open after the crash...\n");
  auto reopened = shard.open(dir, fill_config(), &out.crash_open);
  if (!reopened) return reopened.error();
  out.crash = (*reopened)->last_recovery();
  return shard.close(std::move(*reopened));
}

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

void print_table(const recover_options& opts, const recover_figures& f) {
  auto row = [](std::string_view k, const std::string& v) {
    fmt::print("| {:<16} | {} |\n", k, v);
  };
  fmt::print("sluice-bench recover: {} MiB log, {} MiB tail after the last checkpoint\n",
             opts.log_mib, opts.tail_mib);
  fmt::print("backend: {} ({})\n\n", f.backend, f.backend_choice);
  fmt::print("| {:<16} | {} |\n| {:-<16} | {} |\n", "step", "result", "", "---");
  row("log built", fmt::format("{} bytes in {} segment(s), checkpointed, closed cleanly",
                               f.log_bytes, f.segments));
  row("clean open", fmt::format("{:.2f} ms; clean: {}, {} bytes scanned", ms(f.clean_open),
                                yes_no(f.clean.clean), f.clean.bytes_scanned));
  row("tail", fmt::format("{} bytes appended past the checkpoint, fdatasync'd, then a crash "
                          "(log dropped without close)",
                          f.tail_bytes));
  row("open after crash",
      fmt::format(
          "{:.2f} ms; clean: {}, {} bytes in {} batches scanned "
          "({:.3f} of the tail), {} bytes cut",
          ms(f.crash_open), yes_no(f.crash.clean), f.crash.bytes_scanned, f.crash.batches_scanned,
          f.tail_bytes > 0
              ? static_cast<double>(f.crash.bytes_scanned) / static_cast<double>(f.tail_bytes)
              : 0.0,
          f.crash.bytes_truncated));
  fmt::print(
      "\nPage cache warm: the log was just written, so the re-scan reads memory, not the "
      "disk (dropping the cache needs root).\n");
}

std::string json_summary(const recover_options& opts, const recover_figures& f) {
  nlohmann::ordered_json j;
  j["bench"] = "recover";
  j["log_mib"] = opts.log_mib;
  j["tail_mib"] = opts.tail_mib;
  j["clean_open_ms"] = ms(f.clean_open);
  j["crash_open_ms"] = ms(f.crash_open);
  j["bytes_scanned"] = f.crash.bytes_scanned;
  j["clean_bytes_scanned"] = f.clean.bytes_scanned;
  j["tail_bytes"] = f.tail_bytes;
  j["log_bytes"] = f.log_bytes;
  j["segments"] = f.segments;
  j["page_cache"] = opts.cold ? "cold" : "warm";
  j["backend"] = f.backend;
  return j.dump();
}

result<void> run_all(const recover_options& opts) {
  scratch_dir scratch(opts.common.dir);
  const auto dir = scratch.path() / "bench-0";
  const auto batches = make_batches(shape, 16);
  bench_shard shard(opts.common.backend);
  recover_figures f;
  f.backend = shard.backend_name();
  f.backend_choice = shard.backend_choice();
  fmt::print(stderr, "building a {} MiB log in {}...\n", opts.log_mib, dir.string());
  auto built = build_log(shard, dir, batches, opts.log_mib * mib, f.segments);
  if (!built) return built.error();
  f.log_bytes = *built;
  if (auto r = measure_opens(opts, shard, dir, batches, f); !r) return r;
  print_table(opts, f);
  if (opts.common.json) fmt::print("{}\n", json_summary(opts, f));
  return {};
}

}  // namespace

int run_recover_bench(const recover_options& opts) {
  if (auto r = run_all(opts); !r) {
    fmt::print(stderr, "sluice-bench recover: {}\n", r.error().message());
    return 1;
  }
  return 0;
}

}  // namespace sluice::bench
