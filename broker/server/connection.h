#pragma once
// One client connection on the native protocol, owned by the shard it was accepted onto.
//
// Reading: frames one after another; each is checked (length limits, flatbuffers Verifier,
// request type and version) and handed to its handler, so many requests can be in flight at
// once (pipelining); responses go out as they complete, matched by request id.
// Writing: responses in completion order; record batches go with sendfile straight from the
// segment files after the response message.
// Limits: reading pauses while the connection's unanswered bytes (requests plus responses not
// yet written) exceed max_in_flight_bytes, so a client that floods requests or never reads its
// socket holds a bounded amount of broker memory. Across connections, each frame's bytes are
// taken from the broker-wide in_flight_budget before its body is allocated; while the budget is
// spent the connection waits and reads nothing (in_flight_budget.h). A connection idle for
// idle_timeout, one that starts a frame and stalls for frame_read_timeout, and one whose
// responses make no write progress for write_timeout (a client that never reads: it would
// otherwise hold its share of the budget forever) are closed with a logged reason.
// Bad input: a malformed frame gets an error response (request id 0, corrupt_message or
// message_too_large, with the reason) and the connection closes; nothing else is affected.
//
// Threading: all on the owning shard's thread. Lifetime: shared_ptr held by its coroutines
// and by handlers with requests in flight.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/server/in_flight_budget.h"
#include "broker/server/response_builder.h"
#include "protocol/bytes.h"
#include "protocol/frame.h"
#include "protocol/held_bytes.h"

namespace sluice {

class abandonable;  // broker/handlers/request_context.h

class service;
class connection_set;

struct connection_limits {
  std::uint32_t max_request_bytes;
  std::size_t max_in_flight_bytes;
  std::chrono::milliseconds idle_timeout;
  std::chrono::milliseconds frame_read_timeout;
  std::chrono::milliseconds write_timeout;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(boost::asio::ip::tcp::socket socket, service& svc, connection_limits limits,
             in_flight_budget& budget, connection_set& owner, std::function<bool()> stopping);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start();
  // Stop reading new requests; close once every request in flight is answered and written.
  void shut_down_gracefully();
  // Close now; responses still in flight are dropped, long polls abandoned.
  void close(std::string_view reason);
  // See request_context::abandon_on_close.
  void abandon_on_close(std::weak_ptr<abandonable> op);

  [[nodiscard]] const std::string& peer() const { return peer_; }

 private:
  using clock = std::chrono::steady_clock;
  struct queued_response {
    response_builder response;
    std::size_t request_bytes;  // the request's charge, counted until the response is written
  };

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> wait_for_room();
  boost::asio::awaitable<bool> take_budget(std::size_t bytes);
  boost::asio::awaitable<void> watchdog();
  void handle_frame(held_bytes body, const frame_prefix& prefix, std::size_t charge);
  void refuse_frame(const error& e);
  void respond(std::size_t request_bytes, std::optional<response_builder> r);
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<bool> send_slice(const log_slice& slice);
  void release(std::size_t bytes, std::size_t budget_bytes);
  void maybe_finish_shutdown();
  // Bytes of in_flight_budget this connection holds: request charges and response messages
  // (not the file slices sent with sendfile, which are not in memory).
  static std::size_t budget_bytes_of(const response_builder& r);

  boost::asio::ip::tcp::socket socket_;
  service& svc_;
  connection_limits limits_;
  in_flight_budget& budget_;
  connection_set& owner_;
  std::function<bool()> stopping_;
  std::string peer_;
  boost::asio::steady_timer room_timer_;    // cancelled when in-flight bytes drop
  boost::asio::steady_timer write_signal_;  // cancelled when a response is queued
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer budget_timer_;  // cancelled when the budget grants our bytes
  clock::time_point read_deadline_ = clock::time_point::max();
  const char* deadline_reason_ = "";     // why the connection closes when read_deadline_ passes
  bool read_deadline_is_idle_ = false;   // waiting for a frame to start, not in the middle of one
  clock::time_point write_progress_at_;  // last write progress while responses are queued
  std::deque<queued_response> responses_;
  std::vector<std::weak_ptr<abandonable>> abandon_on_close_;
  std::size_t abandon_prune_at_ = 16;  // pruned of finished operations when it grows past this
  std::size_t in_flight_bytes_ = 0;
  std::size_t budget_held_ = 0;  // given back at once if the connection closes
  bool budget_granted_ = false;
  std::uint64_t budget_wait_generation_ = 0;
  std::size_t requests_in_flight_ = 0;
  bool open_ = true;
  bool reading_ = true;
  bool close_after_write_ = false;
};

// The connections of one shard, so shutdown can reach them. Shard thread only.
class connection_set {
 public:
  // `live` counts connections across all shards (for max_connections).
  explicit connection_set(std::atomic<std::size_t>& live) : live_(live) {}
  // `live` was already counted by the listener when it accepted the socket.
  void add(const std::shared_ptr<connection>& c) { all_.emplace(c.get(), c); }
  void remove(connection* c) {
    if (all_.erase(c) > 0) --live_;
  }
  void shut_down_all();
  // Closes every connection now (after the shutdown timeout).
  void close_all(std::string_view reason);
  [[nodiscard]] std::size_t size() const { return all_.size(); }

 private:
  std::atomic<std::size_t>& live_;
  std::unordered_map<connection*, std::weak_ptr<connection>> all_;
};

}  // namespace sluice
