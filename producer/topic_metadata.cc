#include "producer/topic_metadata.h"

#include <fmt/format.h>

#include "producer/coarse_clock.h"
#include "protocol/client/client_errc.h"

namespace sluice::producer_internal {

topic_metadata::topic_metadata(fetch_request fetch, std::chrono::milliseconds max_age,
                               std::chrono::milliseconds retry_backoff)
    : fetch_(std::move(fetch)), max_age_(max_age), retry_backoff_(retry_backoff) {}

result<std::int32_t> topic_metadata::partition_count(const std::string& topic,
                                                     clock::time_point deadline, bool may_wait) {
  std::unique_lock lock(mu_);
  if (closed_) return make_error(client_errc::client_closed, "producer closed");
  auto it = topics_.find(topic);
  if (it != topics_.end() && it->second.partitions > 0) {
    auto& e = it->second;
    const auto count = e.partitions;
    if (!e.fetching && coarse_now() >= e.refresh_at) {
      e.fetching = true;  // a refresh in the background; the cached count serves meanwhile
      lock.unlock();
      fetch_(topic);
    }
    return count;
  }
  if (it == topics_.end()) it = topics_.emplace(topic, entry{}).first;
  auto& e = it->second;
  // Counted before the lock is let go, so an answer arriving meanwhile is not missed.
  const auto seen = e.answers;
  if (may_wait) ++e.waiters;
  if (!e.fetching) {
    e.fetching = true;
    lock.unlock();
    fetch_(topic);
    lock.lock();
  }
  if (!may_wait) {
    return make_error(client_errc::timed_out,
                      fmt::format("metadata of topic '{}' is not known yet, and a send() from a "
                                  "producer callback cannot wait for it",
                                  topic));
  }
  return wait(lock, e, seen, topic, deadline);
}

// `e` stays valid while waiting: entries are never erased (invalidate() only resets them).
// REQUIRES: the caller counted itself in e.waiters.
result<std::int32_t> topic_metadata::wait(std::unique_lock<std::mutex>& lock, entry& e,
                                          std::uint64_t seen, const std::string& topic,
                                          clock::time_point deadline) {
  cv_.wait_until(lock, deadline, [&] { return closed_ || e.answers != seen; });
  --e.waiters;
  if (closed_) return make_error(client_errc::client_closed, "producer closed");
  if (e.answers != seen) {
    if (e.partitions > 0) return e.partitions;
    if (e.failed) return *e.failed;
  }
  return make_error(
      client_errc::timed_out,
      fmt::format("no metadata for topic '{}' within max_block{}", topic,
                  e.last_retriable ? " (last error: " + e.last_retriable->message() + ")" : ""));
}

void topic_metadata::set(const std::string& topic, std::int32_t partitions) {
  std::lock_guard lock(mu_);
  auto& e = topics_[topic];
  e.partitions = partitions;
  e.refresh_at = clock::now() + max_age_;
  e.fetching = false;
  e.failed.reset();
  e.last_retriable.reset();
  ++e.answers;
  cv_.notify_all();
}

void topic_metadata::set_error(const std::string& topic, const error& err) {
  std::lock_guard lock(mu_);
  auto& e = topics_[topic];
  e.partitions = -1;
  e.fetching = false;
  e.failed = err;
  ++e.answers;
  cv_.notify_all();
}

bool topic_metadata::note_retriable_error(const std::string& topic, const error& err) {
  std::lock_guard lock(mu_);
  auto& e = topics_[topic];
  e.last_retriable = err;
  if (e.waiters == 0 || closed_) {
    e.fetching = false;  // nobody waits: a later caller starts a new fetch
    e.refresh_at = clock::now() + retry_backoff_;
    return false;
  }
  return true;
}

void topic_metadata::invalidate(const std::string& topic) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) it->second.partitions = -1;
}

void topic_metadata::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

}  // namespace sluice::producer_internal
