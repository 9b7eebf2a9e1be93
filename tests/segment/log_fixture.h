#pragma once
// Test fixture for partition logs: a fresh temp directory, an io_context, a real backend wrapped
// in the fault-injecting one, and a manual clock. Helpers run the io_context until an operation
// completes, so tests read top to bottom.

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "protocol/record_batch_builder.h"
#include "segment/io/backend.h"
#include "segment/io/faulty_backend.h"
#include "segment/partition_log.h"

namespace sluice::test {

class temp_dir {
 public:
  explicit temp_dir(const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
    static std::mt19937_64 rng{std::random_device{}()};
    path_ = parent / ("sluice-test-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A batch of `records` records whose values are `value_size` bytes derived from `seed`, with
// timestamps starting at `timestamp`.
byte_buffer make_batch(int records, std::size_t value_size, std::uint64_t seed,
                       std::int64_t timestamp = 1'700'000'000'000);

// Descriptors of this process on deleted files under `dir` whose path ends with `suffix` (a
// name such as "/checkpoint", or an extension such as ".log"): what keeps a deleted file's
// blocks allocated.
int open_deleted_files(const std::filesystem::path& dir, const std::string& suffix);
// Descriptors of this process on files under `dir` whose path ends with `suffix`.
int open_files(const std::filesystem::path& dir, const std::string& suffix);

struct log_fixture {
  // The log lives in a new directory under `parent`.
  explicit log_fixture(
      const std::filesystem::path& parent = std::filesystem::temp_directory_path());
  ~log_fixture();

  // Opens (or reopens) the log at dir/"topic-0" with `config`.
  partition_log& open(log_config cfg = {});
  // Drops the log without close(): what a crash leaves behind (minus unsynced page cache).
  void crash();
  // Closes cleanly and drops the log.
  void close();

  result<append_info> append(byte_buffer batch);
  // Reads everything from `from` to the visible end as raw bytes.
  byte_buffer read_all(offset from);
  // Runs the io_context until just past the next tick of `policy`'s grid (flush=interval
  // timers fire on a grid every log shares), so a test has a whole interval before the next.
  void run_past_next_sync_tick(const flush_policy& policy) {
    ctx.restart();
    ctx.run_until(policy.next_sync_after(std::chrono::steady_clock::now()) +
                  std::chrono::milliseconds(2));
    ctx.poll();  // the tick's handler, when the deadline came first
  }
  // Runs the io_context until `done` holds or 30 s have passed; whether it holds. For what
  // happens on a timer or a sync (a syncfs waits for every dirty file of the filesystem, so
  // it can take a while when other tests or a build are writing).
  template <class Pred>
  bool run_until(Pred done) {
    ctx.restart();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ctx.run_one_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  temp_dir dir;
  boost::asio::io_context ctx;
  std::unique_ptr<io::faulty_backend> io;
  manual_clock clk;
  log_config config;
  std::unique_ptr<partition_log> log;

  [[nodiscard]] std::filesystem::path log_dir() const { return dir.path() / "topic-0"; }
};

// flush=interval whose timer never fires while a test runs: its grid's ticks are 100 years apart.
inline constexpr std::string_view interval_without_timer = "interval:3153600000000";

// Appends `count` one-record batches of `value_size` bytes and runs the loop until all are
// acknowledged; returns the bytes appended.
std::uint64_t append_and_wait(log_fixture& f, int count, std::size_t value_size);

}  // namespace sluice::test
