#pragma once
// The admin client's line to the cluster: an io thread running a broker_pool, and a synchronous
// request/response call on top of it.
//
// Threading: call() may be called from any thread but the io thread; calls made from several
// threads at once are pipelined on the one connection.
// Lifetime: destruction closes the connection (pending calls fail with client_closed) and joins
// the io thread. REQUIRES: no call() in progress when it is destroyed.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "protocol/client/broker_address.h"
#include "protocol/client/broker_pool.h"
#include "protocol/client/io_thread.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"

namespace sluice::admin_detail {

class admin_channel {
 public:
  admin_channel(std::vector<broker_address> bootstrap, client_connection::options opts);
  ~admin_channel();
  admin_channel(const admin_channel&) = delete;
  admin_channel& operator=(const admin_channel&) = delete;

  // Whether a request may be sent again after the connection dropped with it in flight: only
  // requests that change nothing (Metadata, DescribeTopics, ListOffsets). A CreateTopics resent
  // after it took effect would report topic_already_exists for the caller's own topic.
  enum class resend { never, once_if_connection_lost };

  // Sends the request make() builds and waits for the response. Errors: the connection's
  // (connect failures, timed_out, connection_lost, the broker's request-level error).
  // `extra_time` is allowed on top of the request timeout (an operation whose work grows with
  // its size).
  template <class Make>
  [[nodiscard]] result<response_frame> call(
      Make make, resend policy,
      std::chrono::milliseconds extra_time = std::chrono::milliseconds{0}) {
    auto r = round_trip(make(), extra_time);
    if (!r && policy == resend::once_if_connection_lost && is_connection_lost(r.error())) {
      r = round_trip(make(), extra_time);
    }
    return r;
  }

 private:
  [[nodiscard]] static bool is_connection_lost(const error& e);
  [[nodiscard]] result<response_frame> round_trip(request_builder req,
                                                  std::chrono::milliseconds extra_time);

  io_thread io_;
  std::shared_ptr<broker_pool> pool_;
};

}  // namespace sluice::admin_detail
