#pragma once
// One broker shard as the benchmarks run it: an asio::io_context driven by the calling thread,
// the I/O backend a shard would get from io::make_backend, wrapped in timed_backend to count
// and time writes and fdatasyncs, and helpers that run the loop until a partition log has
// opened, closed or been abandoned as a crash leaves it.
//
// Threading: everything, the partition logs included, runs on the thread that constructed it.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "perf/timed_backend.h"
#include "protocol/result.h"
#include "segment/io/backend.h"
#include "segment/log_config.h"
#include "segment/partition_log.h"

namespace sluice::bench {

class bench_shard {
 public:
  // Throws std::runtime_error when `kind` is io_uring and a ring cannot be set up (or
  // SLUICE_IO_BACKEND holds a bad value).
  explicit bench_shard(io::backend_kind kind);
  bench_shard(const bench_shard&) = delete;
  bench_shard& operator=(const bench_shard&) = delete;

  [[nodiscard]] boost::asio::io_context& ctx() { return ctx_; }
  // "io_uring" or "pwrite": the backend under the measuring wrapper.
  [[nodiscard]] std::string_view backend_name() const { return io_->name(); }
  // How that backend was chosen, e.g. "automatic: io_uring probe succeeded".
  [[nodiscard]] const std::string& backend_choice() const { return choice_; }
  // What the backend did, across all logs of this shard.
  [[nodiscard]] timed_backend& io() { return *io_; }

  // partition_log::open on this shard, timed (the open is synchronous).
  [[nodiscard]] result<std::unique_ptr<partition_log>> open(
      const std::filesystem::path& dir, const log_config& config,
      std::chrono::duration<double>* elapsed = nullptr);
  // close() and run the loop until it has finished; the log is destroyed either way.
  [[nodiscard]] result<void> close(std::unique_ptr<partition_log> log);
  // Drops the log without close(), as a crashed process would, then polls the loop so the
  // handlers of abandoned operations run and find the log gone.
  void crash(std::unique_ptr<partition_log> log);

  // Runs the loop one handler at a time until `done()` holds. Returns false if the loop ran out
  // of work first.
  template <class Pred>
  bool run_until(Pred done) {
    ctx_.restart();
    while (!done()) {
      if (ctx_.run_one() == 0) return done();
    }
    return true;
  }

 private:
  boost::asio::io_context ctx_;
  std::unique_ptr<timed_backend> io_;
  std::string choice_;
};

}  // namespace sluice::bench
