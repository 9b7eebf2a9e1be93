#pragma once
// The io_uring backend: one ring per shard, driven from the shard's asio::io_context.
//
// Submission: starting an operation only queues it; one posted flush per io_context turn turns
// the queue into SQEs and calls io_uring_submit once, so appends that arrive together cost one
// io_uring_enter. At most as many operations as the completion queue holds are in the ring;
// the rest wait in the queue (nothing fails because the ring is full).
// Completion: the ring signals an eventfd that the io_context watches; the backend drains it,
// reaps every CQE and runs the handlers on the io_context thread. A short write is resubmitted
// for the rest at the advanced position; the handler sees only the final outcome.
//
// Threading: shard-owned, no mutex. Construct, call and destroy it on the io_context's thread.
// The io_context must outlive the backend. Handlers must not destroy the backend.
//
// Nothing outside segment/io/ includes liburing: the ring is only forward-declared here.

#include <cstdint>
#include <deque>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "segment/io/alive_token.h"
#include "segment/io/backend.h"
#include "segment/io/pending_op.h"

struct io_uring;

namespace sluice::io {

class uring_backend final : public backend {
 public:
  static constexpr unsigned default_entries = 256;

  // Sets up a ring of `entries` submission slots, checks that the kernel supports the WRITE and
  // FSYNC opcodes, and registers the eventfd. The error says which step failed and errno.
  [[nodiscard]] static result<std::unique_ptr<uring_backend>> create(
      boost::asio::io_context& ctx, unsigned entries = default_entries);

  uring_backend(const uring_backend&) = delete;
  uring_backend& operator=(const uring_backend&) = delete;

  // Blocks until the kernel has completed every operation it holds, so no buffer passed to
  // async_write_at is read after this returns. Operations still queued are never started.
  // No handler runs after destruction begins: pending handlers are destroyed uncalled.
  ~uring_backend() override;

  [[nodiscard]] std::string_view name() const override { return "io_uring"; }

  void async_write_at(int fd, std::uint64_t pos, std::span<const std::byte> data,
                      std::string_view what, write_handler handler) override;
  void async_datasync(int fd, std::string_view what, sync_handler handler) override;

  result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                              std::string_view what) override;
  result<void> truncate(int fd, std::uint64_t size, std::string_view what) override;
  result<void> datasync(int fd, std::string_view what) override;

  // io_uring_submit calls (each one io_uring_enter) so far.
  [[nodiscard]] std::uint64_t submit_calls() const { return submit_calls_; }
  // Operations in the ring (submitted or about to be) plus those queued behind them.
  [[nodiscard]] std::size_t in_flight() const { return in_ring_ + queued_.size(); }

 private:
  struct ring_closer {
    void operator()(::io_uring* ring) const;
  };
  using ring_ptr = std::unique_ptr<::io_uring, ring_closer>;

  uring_backend(boost::asio::io_context& ctx, ring_ptr ring, int eventfd);

  void enqueue(std::unique_ptr<pending_op> op);
  void schedule_flush();
  void flush();
  void submit();
  void arm_wait();
  void on_eventfd();
  void reap();
  void wait_for_ring();

  boost::asio::io_context& ctx_;
  ring_ptr ring_;
  boost::asio::posix::stream_descriptor eventfd_;
  unsigned capacity_;  // most ops in the ring at once: the completion queue's size
  std::size_t in_ring_ = 0;
  std::deque<std::unique_ptr<pending_op>> queued_;  // started, not yet in the ring
  bool flush_posted_ = false;
  bool waiting_ = false;  // an async_wait on the eventfd is pending
  std::uint64_t submit_calls_ = 0;
  alive_token alive_;
};

}  // namespace sluice::io
