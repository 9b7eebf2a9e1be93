#pragma once
// Fetches topic metadata (Metadata requests) on the io thread and fills topic_metadata.
//
// Threading: io thread only. Lifetime: shared_ptr; its timers and requests hold a reference.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "producer/topic_metadata.h"
#include "protocol/client/broker_pool.h"
#include "protocol/response_frame.h"

namespace sluice::producer_internal {

// The partition count of `topic` in a Metadata response: the broker's error for the topic
// (unknown_topic, ...), or protocol_violation when the topic is missing or has no partitions.
[[nodiscard]] result<std::int32_t> partition_count_from(const response_frame& frame,
                                                        const std::string& topic);

class metadata_fetcher : public std::enable_shared_from_this<metadata_fetcher> {
 public:
  metadata_fetcher(boost::asio::any_io_executor ex, std::shared_ptr<broker_pool> pool,
                   topic_metadata& cache, std::chrono::milliseconds retry_backoff);

  // Sends a Metadata request for the topic and stores the answer in the cache. Network errors
  // and retriable broker errors are retried after the backoff while a caller waits for the
  // topic; other errors go to the waiting callers.
  void fetch(const std::string& topic);
  // Stops retrying (pending answers are dropped).
  void close() { closed_ = true; }

 private:
  void on_answer(const std::string& topic, result<response_frame> r);

  boost::asio::any_io_executor ex_;
  std::shared_ptr<broker_pool> pool_;
  topic_metadata& cache_;
  std::chrono::milliseconds retry_backoff_;
  bool closed_ = false;
};

}  // namespace sluice::producer_internal
