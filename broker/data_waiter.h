#pragma once
// A long-polling fetch waiting for new data on one partition. The partition keeps a weak
// reference and, the first time its readable end moves, calls wake() with itself on its own
// shard; when it closes instead (its topic deleted, the broker stopping), or was not there to be
// watched, the waiter hears gone(), so the fetch answers now rather than at its max_wait. The
// fetch owns the waiter: once it lets go, the partition drops it.
//
// The waiter gets the partition so that the fetch can read what arrived right there, on the
// partition's shard, and post the outcome to its own shard (as Kafka completes a delayed fetch
// in the thread whose append satisfied it): one hand-off between shards instead of three (the
// wake, the read request, the read's answer), each a thread wake-up.

#include <atomic>
#include <functional>
#include <memory>

namespace sluice {

class partition;

class data_waiter {
 public:
  // `on_data` runs on the partition's shard; it may read the partition but not keep it.
  // `on_gone` runs on whichever thread calls gone(); it must only hand work to the fetch's own.
  data_waiter(std::function<void(const partition&)> on_data, std::function<void()> on_gone)
      : on_data_(std::move(on_data)), on_gone_(std::move(on_gone)) {}

  // Runs on_data, or on_gone, the first time either is called only.
  void wake(const partition& p) {
    if (!fired_.exchange(true)) on_data_(p);
  }
  void gone() {
    if (!fired_.exchange(true)) on_gone_();
  }
  [[nodiscard]] bool fired() const { return fired_.load(); }

 private:
  std::function<void(const partition&)> on_data_;
  std::function<void()> on_gone_;
  std::atomic<bool> fired_{false};
};

}  // namespace sluice
