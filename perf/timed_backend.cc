#include "perf/timed_backend.h"

#include <algorithm>

namespace sluice::bench {

void timed_backend::async_write_at(int fd, std::uint64_t pos, io::write_buffers data,
                                   std::string_view what, io::write_handler handler) {
  ++t_.writes;
  inner_->async_write_at(
      fd, pos, data, what,
      [this, started = clock::now(), h = std::move(handler)](result<std::size_t> r) {
        t_.write_latency.record(clock::now() - started);
        h(std::move(r));
      });
}

void timed_backend::async_datasync(int fd, std::string_view what, io::sync_handler handler) {
  sync_started();
  inner_->async_datasync(fd, what, timed(std::move(handler)));
}

void timed_backend::async_sync_filesystem(int fd, std::string_view what, io::sync_handler handler) {
  sync_started();
  inner_->async_sync_filesystem(fd, what, timed(std::move(handler)));
}

void timed_backend::async_fsync(int fd, std::string_view what, io::sync_handler handler) {
  sync_started();
  inner_->async_fsync(fd, what, timed(std::move(handler)));
}

void timed_backend::async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                                          std::string_view what, io::sync_handler handler) {
  ++t_.writebacks;
  inner_->async_start_writeback(fd, from, length, what, std::move(handler));
}

io::sync_handler timed_backend::timed(io::sync_handler handler) {
  return [this, started = clock::now(), h = std::move(handler)](result<void> r) {
    sync_finished(started);
    h(std::move(r));
  };
}

result<void> timed_backend::datasync(int fd, std::string_view what) {
  ++t_.syncs;
  return inner_->datasync(fd, what);
}

void timed_backend::sync_started() {
  ++t_.syncs;
  if (syncs_in_flight_++ == 0) busy_since_ = clock::now();
  t_.max_syncs_in_flight = std::max(t_.max_syncs_in_flight, syncs_in_flight_);
}

void timed_backend::sync_finished(clock::time_point started) {
  const auto now = clock::now();
  t_.sync_latency.record(now - started);
  if (--syncs_in_flight_ == 0) t_.sync_busy += now - busy_since_;
}

io_timings timed_backend::snapshot() const {
  io_timings out = t_;
  if (syncs_in_flight_ > 0) out.sync_busy += clock::now() - busy_since_;
  return out;
}

void timed_backend::reset() {
  t_ = io_timings{};
  t_.max_syncs_in_flight = syncs_in_flight_;
  if (syncs_in_flight_ > 0) busy_since_ = clock::now();
}

}  // namespace sluice::bench
