#pragma once
// A measuring decorator for the I/O backend: it forwards every call to the backend a shard
// would run on and records how long asynchronous writes and fdatasyncs take, how many
// fdatasyncs ran, and for how much of the time at least one was in flight. This is where the
// append benchmark looks to say where an append's time goes.
//
// Threading: shard-owned like the inner backend; no mutex. Handlers run on the io_context
// thread; the inner backend never runs them after it is destroyed, so neither does this one.

#include <chrono>
#include <cstdint>
#include <memory>

#include "admin/cli/latency_histogram.h"
#include "segment/io/backend.h"

namespace sluice::bench {

using cli::latency_histogram;
using cli::to_us;

struct io_timings {
  latency_histogram write_latency;  // async_write_at call to handler (one gathered write)
  latency_histogram sync_latency;   // async_datasync call to handler
  std::uint64_t writes = 0;
  std::uint64_t syncs = 0;                // fdatasyncs, asynchronous and synchronous
  std::uint64_t writebacks = 0;           // early writeback starts (sync_file_range)
  std::chrono::nanoseconds sync_busy{0};  // time with at least one async fdatasync in flight
  int max_syncs_in_flight = 0;
};

class timed_backend final : public io::backend {
 public:
  explicit timed_backend(std::unique_ptr<io::backend> inner) : inner_(std::move(inner)) {}

  [[nodiscard]] std::string_view name() const override { return inner_->name(); }

  using io::backend::async_write_at;
  void async_write_at(int fd, std::uint64_t pos, io::write_buffers data, std::string_view what,
                      io::write_handler handler) override;
  void async_datasync(int fd, std::string_view what, io::sync_handler handler) override;
  void async_fsync(int fd, std::string_view what, io::sync_handler handler) override;
  void async_sync_filesystem(int fd, std::string_view what, io::sync_handler handler) override;
  void async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                             std::string_view what, io::sync_handler handler) override;
  void close_later(int fd, std::string_view what) override { inner_->close_later(fd, what); }
  void drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                        std::string_view what) override {
    inner_->drop_cache_later(fd, from, length, what);
  }

  result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                              std::string_view what) override {
    return inner_->read_at(fd, pos, out, what);
  }
  result<void> truncate(int fd, std::uint64_t size, std::string_view what) override {
    return inner_->truncate(fd, size, what);
  }
  result<void> datasync(int fd, std::string_view what) override;

  // The figures since construction or the last reset; sync_busy includes a sync still running.
  [[nodiscard]] io_timings snapshot() const;
  void reset();

 private:
  using clock = std::chrono::steady_clock;

  void sync_started();
  // Wraps a sync handler so its latency is recorded when it runs.
  io::sync_handler timed(io::sync_handler handler);
  void sync_finished(clock::time_point started);

  std::unique_ptr<io::backend> inner_;
  io_timings t_;
  int syncs_in_flight_ = 0;
  clock::time_point busy_since_;
};

}  // namespace sluice::bench
