#include "perf/fsync_bench.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "admin/cli/latency_histogram.h"
#include "perf/scratch_dir.h"

namespace sluice::bench {

using cli::latency_histogram;
using cli::to_us;
namespace {

using steady = std::chrono::steady_clock;

struct fsync_figures {
  latency_histogram sync;        // fdatasync alone
  latency_histogram write_sync;  // pwrite + fdatasync
  double seconds = 0;
};

void throw_errno(const char* what, const std::filesystem::path& file) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, file.string(), std::strerror(errno)));
}

fsync_figures measure(const fsync_options& opts, const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("create", file);
  std::vector<char> data(opts.write_bytes, 'x');
  fsync_figures f;
  const auto start = steady::now();
  const auto end = start + std::chrono::duration<double>(opts.seconds);
  const auto gap = opts.rate > 0 ? std::chrono::duration<double>(1.0 / opts.rate)
                                 : std::chrono::duration<double>(0);
  off_t pos = 0;
  for (auto next = start; steady::now() < end;
       next += std::chrono::duration_cast<steady::duration>(gap)) {
    if (opts.rate > 0) std::this_thread::sleep_until(next);
    const auto t0 = steady::now();
    if (::pwrite(fd, data.data(), data.size(), pos) != static_cast<ssize_t>(data.size())) {
      throw_errno("pwrite", file);
    }
    const auto t1 = steady::now();
    if (::fdatasync(fd) != 0) throw_errno("fdatasync", file);
    const auto t2 = steady::now();
    f.sync.record(t2 - t1);
    f.write_sync.record(t2 - t0);
    pos += static_cast<off_t>(data.size());
  }
  f.seconds = std::chrono::duration<double>(steady::now() - start).count();
  ::close(fd);
  return f;
}

void print(const fsync_options& opts, const fsync_figures& f) {
  fmt::print("sluice-bench fsync: {}-byte appends, {}, {:.1f} s\n\n", opts.write_bytes,
             opts.rate > 0 ? fmt::format("{} appends/s", opts.rate) : std::string("back to back"),
             f.seconds);
  fmt::print("| metric | p50 | p99 | p99.9 | max |\n| --- | --- | --- | --- | --- |\n");
  for (auto [name, h] : {std::pair{"fdatasync", &f.sync}, {"pwrite + fdatasync", &f.write_sync}}) {
    fmt::print("| {} | {:.1f} µs | {:.1f} µs | {:.1f} µs | {:.1f} µs |\n", name,
               to_us(h->percentile(50)), to_us(h->percentile(99)), to_us(h->percentile(99.9)),
               to_us(h->max()));
  }
  fmt::print("\n{} appends ({:.0f}/s)\n", f.sync.count(),
             static_cast<double>(f.sync.count()) / f.seconds);
}

std::string json_summary(const fsync_options& opts, const fsync_figures& f) {
  nlohmann::ordered_json j;
  j["bench"] = "fsync";
  j["write_bytes"] = opts.write_bytes;
  j["rate"] = opts.rate;
  j["seconds"] = f.seconds;
  j["appends"] = f.sync.count();
  j["fsync_p50_us"] = to_us(f.sync.percentile(50));
  j["fsync_p99_us"] = to_us(f.sync.percentile(99));
  j["fsync_p999_us"] = to_us(f.sync.percentile(99.9));
  j["fsync_max_us"] = to_us(f.sync.max());
  j["write_fsync_p50_us"] = to_us(f.write_sync.percentile(50));
  j["write_fsync_p99_us"] = to_us(f.write_sync.percentile(99));
  return j.dump();
}

}  // namespace

int run_fsync_bench(const fsync_options& opts) {
  try {
    scratch_dir scratch(opts.common.dir);
    const auto figures = measure(opts, scratch.path() / "fsync-probe");
    print(opts, figures);
    if (opts.common.json) fmt::print("{}\n", json_summary(opts, figures));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice-bench fsync: {}\n", e.what());
    return 1;
  }
}

}  // namespace sluice::bench
