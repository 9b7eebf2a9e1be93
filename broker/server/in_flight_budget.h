#pragma once
// The broker-wide budget of request and response bytes held in memory (--max-in-flight-bytes),
// shared by every connection on every shard.
//
// Why: the per-connection limit bounds one client, but a thousand clients each within their own
// limit can still claim more memory than the machine has. A connection takes a frame's bytes
// from this budget after reading the frame's length and before allocating its body; when the
// budget is spent it waits and reads nothing more from its socket, so the pressure goes back to
// the clients through TCP instead of into the broker's heap. The bytes come back when the
// response has been written (or the connection closes).
//
// Waiters are served first come, first served, and a newcomer may not overtake a waiter: a large
// request is never starved by a stream of small ones. The budget only counts and queues; the
// `granted` callback runs on the thread that gave bytes back (or that enqueued, if they fit at
// once), so it must only post to the waiter's own executor.
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

namespace sluice {

class in_flight_budget {
 public:
  using ticket = std::uint64_t;

  explicit in_flight_budget(std::size_t limit) : limit_(limit) {}
  in_flight_budget(const in_flight_budget&) = delete;
  in_flight_budget& operator=(const in_flight_budget&) = delete;

  // Takes `n` bytes if they fit and nobody is waiting; false otherwise (then enqueue()).
  [[nodiscard]] bool try_take(std::size_t n);
  // Takes `n` bytes even past the limit: for a response to a request already admitted, which
  // must not wait (that request's bytes are about to come back) — new requests then wait.
  void force_take(std::size_t n);
  // Queues a request for `n` bytes; `granted` is called once they have been taken for it.
  [[nodiscard]] ticket enqueue(std::size_t n, std::function<void()> granted);
  // Withdraws a queued request. False if it was already granted: the bytes are the caller's
  // and must be given back.
  [[nodiscard]] bool cancel(ticket t);
  void give_back(std::size_t n);

  [[nodiscard]] std::size_t limit() const { return limit_; }
  [[nodiscard]] std::size_t used() const;
  [[nodiscard]] std::size_t waiting() const;

 private:
  struct waiter {
    ticket id;
    std::size_t bytes;
    std::function<void()> granted;
  };
  // Whether `n` more bytes fit. A request larger than the whole budget is admitted alone, so an
  // oversized limit setting cannot wedge a connection forever.
  [[nodiscard]] bool fits(std::size_t n) const { return used_ == 0 || used_ + n <= limit_; }
  // Moves the waiters at the head that now fit into `out` (their bytes taken). Lock held.
  void grant_waiters(std::vector<std::function<void()>>& out);

  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::size_t used_ = 0;
  std::deque<waiter> waiters_;
  ticket next_ticket_ = 1;
};

}  // namespace sluice
