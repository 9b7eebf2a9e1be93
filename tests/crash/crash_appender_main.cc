// sluice-crash-appender DIR SEED: the victim of the crash test.
//
// Opens the partition log at DIR (settings in crash_config.h, flush=always), keeps
// appends_in_flight appends of 100 B - 20 KiB batches in flight (content derived from SEED and a
// counter), runs retention every few acknowledgements, and reports each acknowledged append on
// its ack fd (ack_line.h) the moment its handler runs. It runs until it is killed.
//
// The ack fd is the stdout it was started with; fd 1 itself is then pointed at stderr, so
// nothing else the process prints (spdlog writes to stdout) can mix into the acks.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <string_view>

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_batch_format.h"
#include "segment/io/backend.h"
#include "segment/partition_log.h"
#include "tests/crash/ack_line.h"
#include "tests/crash/crash_config.h"
#include "tests/crash/kill_points.h"

namespace sluice::crash {
namespace {

[[noreturn]] void fail(std::string_view what) {
  std::fprintf(stderr, "sluice-crash-appender: %.*s\n", static_cast<int>(what.size()), what.data());
  std::exit(3);
}

// One write(2) for the whole line; the rest of a short write follows, but the parent only
// counts a line once its '\n' arrived.
void write_line(int fd, std::string_view line) {
  while (!line.empty()) {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::exit(4);  // the parent is gone
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A batch of roughly `target` bytes (1-8 records), every byte derived from (seed, counter).
byte_buffer make_batch(std::uint64_t seed, std::uint64_t counter, std::size_t target) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + counter);
  const std::size_t records = target < 400 ? 1 : 1 + rng() % 8;
  const std::size_t per_record = (target - batch_header_size) / records;
  const std::size_t value_size = per_record > 40 ? per_record - 40 : 1;
  record_batch_builder builder;
  for (std::size_t i = 0; i < records; ++i) {
    std::string key = fmt::format("s{}-c{}-r{}", seed, counter, i);
    std::string value(value_size, '\0');
    for (auto& c : value) c = static_cast<char>('a' + rng() % 26);
    auto ts = static_cast<std::int64_t>(1'700'000'000'000 + counter);
    builder.add(ts, as_bytes(key), as_bytes(value));
  }
  return builder.build();
}

class appender {
 public:
  appender(partition_log& log, int ack_fd, std::uint64_t seed)
      : log_(log), ack_fd_(ack_fd), seed_(seed), rng_(seed) {}

  void start() {
    for (int i = 0; i < appends_in_flight; ++i) append_next();
  }

 private:
  // Log-uniform over [min_batch_bytes, max_batch_bytes]: many small batches, some large.
  std::size_t next_target_size() {
    std::uniform_real_distribution<double> exponent(std::log(static_cast<double>(min_batch_bytes)),
                                                    std::log(static_cast<double>(max_batch_bytes)));
    return static_cast<std::size_t>(std::exp(exponent(rng_)));
  }

  void append_next() {
    byte_buffer batch = make_batch(seed_, counter_++, next_target_size());
    byte_buffer copy = batch;
    log_.append(std::move(batch), [this, copy = std::move(copy)](result<append_info> r) mutable {
      on_appended(std::move(copy), r);
    });
  }

  void on_appended(byte_buffer stored, const result<append_info>& r) {
    if (!r) fail("append failed: " + r.error().message());
    set_base_offset(stored, r->base_offset);
    set_partition_leader_epoch(stored, leader_epoch{0});
    write_line(ack_fd_,
               format_ack_line({r->base_offset, r->last_offset, stored.size(), crc32c(stored)}));
    if (++acks_ % retention_every_acks == 0) {
      if (auto d = log_.enforce_retention(); !d) fail("retention: " + d.error().message());
    }
    append_next();
  }

  partition_log& log_;
  int ack_fd_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  std::uint64_t counter_ = 0;
  std::uint64_t acks_ = 0;
};

std::uint64_t parse_seed(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) fail(fmt::format("bad seed '{}'", s));
  return v;
}

int run(const char* dir, std::uint64_t seed) {
  int ack_fd = ::dup(STDOUT_FILENO);
  if (ack_fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) fail("cannot set up the ack fd");
  set_kill_report_fd(ack_fd);
  spdlog::set_level(spdlog::level::warn);

  boost::asio::io_context ctx;
  auto io = io::make_backend(ctx);
  recycle_small_segments();
  auto log = partition_log::open(dir, crash_log_config(retention_bytes_from_env()), *io, ctx);
  if (!log) fail("open: " + log.error().message());
  const recovery_report& rec = (*log)->last_recovery();
  write_line(ack_fd, fmt::format("open {} {} {} {}\n", (*log)->log_start_offset(),
                                 (*log)->log_end_offset(), rec.bytes_truncated, rec.cut_reason));
  appender a(**log, ack_fd, seed);
  a.start();
  ctx.run();
  return 0;
}

}  // namespace
}  // namespace sluice::crash

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: sluice-crash-appender DIR SEED\n");
    return 2;
  }
  try {
    return sluice::crash::run(argv[1], sluice::crash::parse_seed(argv[2]));
  } catch (const std::exception& e) {
    sluice::crash::fail(e.what());
  }
}
