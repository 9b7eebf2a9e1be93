#pragma once
// The partition counts of the topics this producer writes to, learned from Metadata requests on
// first use and cached. A cached count older than max_age is refreshed in the background (the
// old count serves meanwhile), so partitions added to a topic come into use; the sender drops a
// count when the broker says the topic or partition is unknown.
//
// Threading: partition_count() may be called from any thread and waits for the answer; the
// io thread (metadata_fetcher) fills the cache with set() / set_error().

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "protocol/result.h"

namespace sluice::producer_internal {

class topic_metadata {
 public:
  using clock = std::chrono::steady_clock;
  // Asks the io thread to fetch a topic's metadata; called without the lock, must not block.
  using fetch_request = std::function<void(const std::string& topic)>;

  // max_age: refresh a count this old; retry_backoff: wait this long after a failed refresh.
  topic_metadata(fetch_request fetch, std::chrono::milliseconds max_age,
                 std::chrono::milliseconds retry_backoff);

  // Any thread. The topic's partition count: from the cache, or after a fetch, waiting until
  // `deadline` (not at all when !may_wait: the io thread cannot wait for itself). Fails with
  // the broker's error for the topic (unknown_topic, invalid_topic_name, ...), with timed_out
  // (the detail names the last error, e.g. an unreachable broker), or client_closed.
  [[nodiscard]] result<std::int32_t> partition_count(const std::string& topic,
                                                     clock::time_point deadline, bool may_wait);

  // Io thread: the answer of a fetch. An error is given to the callers waiting now and not
  // cached (the next call fetches again: the topic may have been created meanwhile).
  void set(const std::string& topic, std::int32_t partitions);
  void set_error(const std::string& topic, const error& e);
  // Io thread: a fetch failed in a way worth retrying (network, timeout). Returns whether a
  // caller still waits for this topic (then the fetcher retries after its backoff).
  bool note_retriable_error(const std::string& topic, const error& e);
  // Io thread: forgets the topic's count, so the next send() fetches it again.
  void invalidate(const std::string& topic);
  // Fails every waiting caller, and later calls, with client_closed.
  void close();

 private:
  struct entry {
    std::int32_t partitions = -1;  // -1: not known
    bool fetching = false;
    int waiters = 0;
    std::uint64_t answers = 0;    // bumped by every set / set_error
    std::optional<error> failed;  // the latest answer, if it was an error
    std::optional<error> last_retriable;
    clock::time_point refresh_at{};  // a known count is fetched again from then on
  };

  result<std::int32_t> wait(std::unique_lock<std::mutex>& lock, entry& e, std::uint64_t seen,
                            const std::string& topic, clock::time_point deadline);

  fetch_request fetch_;
  std::chrono::milliseconds max_age_;
  std::chrono::milliseconds retry_backoff_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, entry> topics_;
  bool closed_ = false;
};

}  // namespace sluice::producer_internal
