#pragma once
// A long-polling fetch waiting for new data on some partitions. Each partition it waits on keeps
// a weak reference; the first partition whose readable end moves calls wake() (once, from that
// partition's shard). The fetch owns the waiter: once it lets go, partitions drop it.

#include <atomic>
#include <functional>
#include <memory>

namespace sluice {

class data_waiter {
 public:
  // `on_data` must be safe to call from any shard: typically it posts to the fetch's shard.
  explicit data_waiter(std::function<void()> on_data) : on_data_(std::move(on_data)) {}

  // Runs on_data the first time only.
  void wake() {
    if (!fired_.exchange(true)) on_data_();
  }
  [[nodiscard]] bool fired() const { return fired_.load(); }

 private:
  std::function<void()> on_data_;
  std::atomic<bool> fired_{false};
};

}  // namespace sluice
