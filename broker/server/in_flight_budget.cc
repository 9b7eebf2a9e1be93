#include "broker/server/in_flight_budget.h"

#include <algorithm>
#include <vector>

namespace sluice {

bool in_flight_budget::try_take(std::size_t n) {
  const std::scoped_lock lock(mutex_);
  if (!waiters_.empty() || !fits(n)) return false;
  used_ += n;
  return true;
}

void in_flight_budget::force_take(std::size_t n) {
  const std::scoped_lock lock(mutex_);
  used_ += n;
}

in_flight_budget::ticket in_flight_budget::enqueue(std::size_t n, std::function<void()> granted) {
  std::vector<std::function<void()>> ready;
  ticket id = 0;
  {
    const std::scoped_lock lock(mutex_);
    id = next_ticket_++;
    waiters_.push_back({id, n, std::move(granted)});
    grant_waiters(ready);
  }
  for (auto& f : ready) f();
  return id;
}

bool in_flight_budget::cancel(ticket t) {
  std::vector<std::function<void()>> ready;
  bool removed = false;
  {
    const std::scoped_lock lock(mutex_);
    auto it =
        std::find_if(waiters_.begin(), waiters_.end(), [t](const waiter& w) { return w.id == t; });
    if (it != waiters_.end()) {
      waiters_.erase(it);
      removed = true;
      // The head may have been the one that did not fit; those behind it may fit now.
      grant_waiters(ready);
    }
  }
  for (auto& f : ready) f();
  return removed;
}

void in_flight_budget::give_back(std::size_t n) {
  std::vector<std::function<void()>> ready;
  {
    const std::scoped_lock lock(mutex_);
    used_ -= std::min(n, used_);
    grant_waiters(ready);
  }
  for (auto& f : ready) f();  // outside the lock: they post to other shards
}

void in_flight_budget::grant_waiters(std::vector<std::function<void()>>& out) {
  while (!waiters_.empty() && fits(waiters_.front().bytes)) {
    used_ += waiters_.front().bytes;
    out.push_back(std::move(waiters_.front().granted));
    waiters_.pop_front();
  }
}

std::size_t in_flight_budget::used() const {
  const std::scoped_lock lock(mutex_);
  return used_;
}

std::size_t in_flight_budget::waiting() const {
  const std::scoped_lock lock(mutex_);
  return waiters_.size();
}

}  // namespace sluice
