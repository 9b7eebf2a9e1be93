#include "perf/append_bench.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "perf/append_driver.h"
#include "perf/baseline.h"
#include "perf/batch_factory.h"
#include "perf/bench_shard.h"
#include "perf/page_cache.h"
#include "perf/scratch_dir.h"

namespace sluice::bench {
namespace {

using seconds_d = std::chrono::duration<double>;
using steady = std::chrono::steady_clock;

constexpr std::size_t distinct_batches = 16;

// What the partition log did during the timed window.
struct log_run {
  append_stats stats;
  io_timings io;         // writes and fdatasyncs inside the window
  seconds_d elapsed{0};  // the window
  seconds_d drain{0};    // window end to the log closed: the rest made durable
  seconds_d cpu{0};      // process CPU (user + system, all threads) inside the window
  std::size_t segments = 0;
  std::string backend;
  std::string backend_choice;
};

struct baselines {
  baseline_result before;                     // for the log's window, before it
  baseline_result after;                      // for the log's window, after it
  std::optional<baseline_result> sync_floor;  // flush=always: write + fdatasync cycles
  [[nodiscard]] double best_mb_per_s() const {
    return std::max(before.mb_per_s(), after.mb_per_s());
  }
};

seconds_d process_cpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds_d(secs(u.ru_utime) + secs(u.ru_stime));
}

double per_second(double n, seconds_d t) {
  return t.count() > 0 ? n / t.count() : 0;
}
double as_double(std::uint64_t n) {
  return static_cast<double>(n);
}
double mb(std::uint64_t bytes) {
  return as_double(bytes) / 1e6;
}
// What the appenders have outstanding at most: one batch each.
std::uint64_t cycle_bytes(const append_options& opts) {
  return static_cast<std::uint64_t>(opts.appenders) * opts.batch_bytes;
}

double mb_per_s(const log_run& run) {
  return per_second(mb(run.stats.bytes), run.elapsed);
}
double durable_mb_per_s(const log_run& run) {
  return per_second(mb(run.stats.bytes), run.elapsed + run.drain);
}

// Runs the loop until the deadline (or a failed append), then lets the outstanding appends
// finish without counting them.
result<void> drive_until_deadline(bench_shard& shard, append_driver& driver, seconds_d duration,
                                  log_run& out) {
  boost::asio::steady_timer deadline(shard.ctx());
  bool expired = false;
  shard.io().reset();
  const auto cpu_at_start = process_cpu();
  const auto start = steady::now();
  deadline.expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(duration));
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    driver.stop_counting();
    driver.stop_issuing();
    out.elapsed = steady::now() - start;
    out.cpu = process_cpu() - cpu_at_start;
    out.io = shard.io().snapshot();
    expired = true;
  });
  driver.start();
  shard.run_until([&] { return expired || driver.failure().has_value(); });
  driver.stop_issuing();
  deadline.cancel();
  shard.run_until([&] { return driver.finished(); });
  if (driver.failure()) return *driver.failure();
  return {};
}

// Enforces the log's retention every 100 ms while alive, as a broker's shard does.
class retention_ticker {
 public:
  retention_ticker(boost::asio::io_context& ctx, partition_log& log) : timer_(ctx), log_(log) {
    if (log.config().retention_bytes >= 0) tick();
  }
  retention_ticker(const retention_ticker&) = delete;
  retention_ticker& operator=(const retention_ticker&) = delete;
  ~retention_ticker() { timer_.cancel(); }

 private:
  void tick() {
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (auto r = log_.enforce_retention(); !r) {
        fmt::print(stderr, "retention: {}\n", r.error().message());
      }
      tick();
    });
  }
  boost::asio::steady_timer timer_;
  partition_log& log_;
};

result<log_run> run_log(const append_options& opts, const std::filesystem::path& dir,
                        const std::vector<prebuilt_batch>& batches) {
  partition_log::max_syncs_in_flight = opts.syncs_in_flight;
  partition_log::recycle_segments = opts.recycle;
  bench_shard shard(opts.common.backend);
  log_config config;
  config.flush = opts.flush;
  config.segment_bytes = opts.segment_mib << 20;
  config.retention_bytes = opts.retention_mib < 0 ? -1 : opts.retention_mib << 20;
  auto log = shard.open(dir, config);
  if (!log) return log.error();
  log_run out;
  out.backend = shard.backend_name();
  out.backend_choice = shard.backend_choice();
  std::optional<retention_ticker> retention;
  retention.emplace(shard.ctx(), **log);
  if (opts.warmup_seconds > 0) {
    fmt::print(stderr, "warm-up ({} s)...\n", opts.warmup_seconds);
    append_driver warmup(**log, batches, opts.appenders);
    log_run discarded;
    if (auto r = drive_until_deadline(shard, warmup, seconds_d(opts.warmup_seconds), discarded);
        !r) {
      return r.error();
    }
  }
  append_driver driver(**log, batches, opts.appenders);
  if (auto r = drive_until_deadline(shard, driver, seconds_d(opts.seconds), out); !r) {
    return r.error();
  }
  retention.reset();
  out.stats = driver.stats();
  out.segments = (*log)->segment_count();
  const auto drain_start = steady::now();
  if (auto r = shard.close(std::move(*log)); !r) return r.error();
  out.drain = steady::now() - drain_start;
  return out;
}

void print_header(const append_options& opts, const prebuilt_batch& batch,
                  const std::filesystem::path& dir) {
  fmt::print(
      "sluice-bench append: {}-byte records, {}-byte batches ({} records, {} bytes each), "
      "{} appenders, flush={}, {} s\n",
      opts.record_size, opts.batch_bytes, batch.records, batch.bytes.size(), opts.appenders,
      opts.flush.to_string(), opts.seconds);
  fmt::print(
      "log: segment.bytes {} MiB, retention.bytes {}, segment files {}, warm-up {} s\n",
      opts.segment_mib,
      opts.retention_mib < 0 ? std::string("none") : fmt::format("{} MiB", opts.retention_mib),
      opts.recycle ? "recycled" : "deleted", opts.warmup_seconds);
  fmt::print("data directory: {}\n", dir.string());
}

void row(std::string_view key, const std::string& value) {
  fmt::print("| {:<22} | {} |\n", key, value);
}

std::string describe_baseline(const baseline_result& b) {
  return fmt::format("{:.1f} MB/s ({:.1f} MB in {:.2f} s{})", b.mb_per_s(), mb(b.bytes),
                     b.elapsed.count(),
                     b.stopped_for_space ? ", stopped at the free-space floor" : "");
}

std::string percentiles_us(const latency_histogram& h) {
  return fmt::format("p50 {:.1f} µs, p99 {:.1f} µs, max {:.1f} µs", to_us(h.percentile(50)),
                     to_us(h.percentile(99)), to_us(h.max()));
}

void print_log_rows(const log_run& run) {
  const append_stats& s = run.stats;
  row("throughput", fmt::format("{:.1f} MB/s", mb_per_s(run)));
  row("messages", fmt::format("{:.0f} msgs/s", per_second(as_double(s.records), run.elapsed)));
  row("appends", fmt::format("{:.0f} appends/s", per_second(as_double(s.appends), run.elapsed)));
  row("latency p50", fmt::format("{:.1f} µs", to_us(s.latency.percentile(50))));
  row("latency p99", fmt::format("{:.1f} µs", to_us(s.latency.percentile(99))));
  row("latency p99.9", fmt::format("{:.1f} µs", to_us(s.latency.percentile(99.9))));
  row("latency max", fmt::format("{:.1f} µs", to_us(s.latency.max())));
  row("acknowledged", fmt::format("{:.1f} MB, {} records in {:.2f} s, {} segment(s)", mb(s.bytes),
                                  s.records, run.elapsed.count(), run.segments));
  row("durable throughput", fmt::format("{:.1f} MB/s (window + {:.2f} s for close to fdatasync "
                                        "the rest)",
                                        durable_mb_per_s(run), run.drain.count()));
}

void print_io_rows(const log_run& run) {
  const io_timings& io = run.io;
  const double appends_per_sync =
      io.syncs > 0 ? as_double(run.stats.appends) / as_double(io.syncs) : 0.0;
  row("fdatasyncs", fmt::format("{} ({:.0f}/s, {:.1f} appends each)", io.syncs,
                                per_second(as_double(io.syncs), run.elapsed), appends_per_sync));
  row("fdatasync latency", percentiles_us(io.sync_latency));
  row("fdatasync in flight",
      fmt::format("{:.0f}% of the window, at most {} at once",
                  100.0 * seconds_d(io.sync_busy).count() / run.elapsed.count(),
                  io.max_syncs_in_flight));
  row("write latency", percentiles_us(io.write_latency));
  row("process CPU", fmt::format("{:.0f}% of one core (user + system, all threads)",
                                 100.0 * run.cpu.count() / run.elapsed.count()));
}

void print_table(const append_options& opts, const log_run& run, const baselines& base) {
  fmt::print("backend: {} ({})\n\n", run.backend, run.backend_choice);
  fmt::print("| {:<22} | {} |\n| {:-<22} | {} |\n", "metric", "value", "", "---");
  print_log_rows(run);
  print_io_rows(run);
  if (!opts.baseline) {
    row("baseline", "skipped (--no-baseline)");
    return;
  }
  row("baseline before", describe_baseline(base.before));
  row("baseline after", describe_baseline(base.after));
  row("baseline (best)", fmt::format("{:.1f} MB/s", base.best_mb_per_s()));
  row("ratio", fmt::format("{:.3f}", mb_per_s(run) / base.best_mb_per_s()));
  if (base.sync_floor) {
    row("fdatasync-cycle floor", describe_baseline(*base.sync_floor));
    row("log / floor", fmt::format("{:.3f}", mb_per_s(run) / base.sync_floor->mb_per_s()));
  }
  fmt::print(
      "\nMB = 10^6 bytes. Baseline: sequential pwrite of {}-byte chunks to a fresh file "
      "on the same filesystem with write-behind\n(sync_file_range every 8 MiB), one fdatasync "
      "at the end; run for as long as the log, before and after it;\nthe better of the two is "
      "the disk's limit.\n",
      opts.batch_bytes);
  if (base.sync_floor) {
    fmt::print(
        "fdatasync-cycle floor: one thread writing {} bytes (appenders x batch) then "
        "fdatasync, again and again: the most flush=always can do with that much in flight.\n",
        cycle_bytes(opts));
  }
}

std::string json_summary(const append_options& opts, const log_run& run, const baselines& base) {
  const append_stats& s = run.stats;
  // Without a baseline its figures and the ratio are null.
  const double none = std::numeric_limits<double>::quiet_NaN();
  auto measured = [&](double v) { return opts.baseline ? v : none; };
  nlohmann::ordered_json j;
  j["bench"] = "append";
  j["mb_per_s"] = mb_per_s(run);
  j["msgs_per_s"] = per_second(as_double(s.records), run.elapsed);
  j["appends_per_s"] = per_second(as_double(s.appends), run.elapsed);
  j["p50_us"] = to_us(s.latency.percentile(50));
  j["p99_us"] = to_us(s.latency.percentile(99));
  j["p999_us"] = to_us(s.latency.percentile(99.9));
  j["max_us"] = to_us(s.latency.max());
  j["baseline_mb_per_s"] = measured(base.best_mb_per_s());
  j["baseline_before_mb_per_s"] = measured(base.before.mb_per_s());
  j["baseline_after_mb_per_s"] = measured(base.after.mb_per_s());
  j["ratio"] = measured(mb_per_s(run) / base.best_mb_per_s());
  j["sync_floor_mb_per_s"] = base.sync_floor ? base.sync_floor->mb_per_s() : none;
  j["syncs_in_flight"] = opts.syncs_in_flight;
  j["durable_mb_per_s"] = durable_mb_per_s(run);
  j["flush"] = opts.flush.to_string();
  j["appenders"] = opts.appenders;
  j["record_size"] = opts.record_size;
  j["batch_bytes"] = opts.batch_bytes;
  j["seconds"] = run.elapsed.count();
  j["backend"] = run.backend;
  j["fsyncs"] = run.io.syncs;
  j["fsync_p50_us"] = to_us(run.io.sync_latency.percentile(50));
  j["bytes"] = s.bytes;
  j["records"] = s.records;
  j["segments"] = run.segments;
  j["segment_mib"] = opts.segment_mib;
  j["retention_mib"] = opts.retention_mib;
  j["recycle"] = opts.recycle;
  j["warmup_seconds"] = opts.warmup_seconds;
  return j.dump();
}

// Both baselines run for the log's window: the disk's rate over the same time, before and after
// the log, so that a drift of the machine during the run shows as a gap between the two.
result<baseline_result> run_baseline(const append_options& opts, const scratch_dir& scratch,
                                     std::string_view when) {
  fmt::print(stderr, "baseline {} the run ({} s)...\n", when, opts.seconds);
  baseline_options b;
  b.chunk = opts.batch_bytes;
  return write_baseline_for(scratch.path() / fmt::format("baseline-{}", when),
                            seconds_d(opts.seconds), b);
}

result<baseline_result> run_sync_floor(const append_options& opts, const scratch_dir& scratch) {
  fmt::print(stderr, "fdatasync-cycle floor ({} s)...\n", opts.seconds);
  baseline_options b;
  b.chunk = opts.batch_bytes;
  return write_sync_cycles_for(scratch.path() / "sync-floor", seconds_d(opts.seconds),
                               cycle_bytes(opts), b);
}

result<void> run_all(const append_options& opts) {
  scratch_dir scratch(opts.common.dir);
  const auto batches = make_batches({opts.record_size, opts.batch_bytes}, distinct_batches);
  print_header(opts, batches.front(), scratch.path());
  baselines base;
  if (opts.baseline) {
    auto before = run_baseline(opts, scratch, "before");
    if (!before) return before.error();
    base.before = *before;
  }
  fmt::print(stderr, "partition log ({} s)...\n", opts.seconds);
  auto run = run_log(opts, scratch.path() / "bench-0", batches);
  if (!run) return run.error();
  if (auto r = drop_cached_pages_under(scratch.path() / "bench-0"); !r) return r;
  if (opts.baseline) {
    auto after = run_baseline(opts, scratch, "after");
    if (!after) return after.error();
    base.after = *after;
  }
  if (opts.baseline && opts.flush.kind == flush_policy::mode::always) {
    auto floor = run_sync_floor(opts, scratch);
    if (!floor) return floor.error();
    base.sync_floor = *floor;
  }
  print_table(opts, *run, base);
  if (opts.common.json) fmt::print("{}\n", json_summary(opts, *run, base));
  return {};
}

}  // namespace

int run_append_bench(const append_options& opts) {
  if (auto r = run_all(opts); !r) {
    fmt::print(stderr, "sluice-bench append: {}\n", r.error().message());
    return 1;
  }
  return 0;
}

}  // namespace sluice::bench
