#pragma once
// A client's connection to one broker on the native protocol: requests are pipelined (many in
// flight, matched to responses by request id), written in call order with gather writes, and
// time out individually. A request that times out closes the connection: it fails with
// timed_out and every other request in flight with connection_lost, so callers retry on a new
// connection rather than behind a broker (or a half-open socket) that stopped answering.
//
// Threading: a connection lives on one executor run by one thread (a client's io thread). Every
// method must be called there; handlers run there, never inline inside the call.
//
// Lifetime: shared_ptr; reads and timers hold a reference, so the connection lives until it is
// closed (by close() or by a network error) and its loops have ended. On close, every pending
// request fails: client_closed after close(), connection_lost after a network error.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/api_versions.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/receive_buffer_pool.h"
#include "protocol/frame_format.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"

namespace sluice {

// The kernel's cap on SO_RCVBUF, as /proc/sys/net/core/rmem_max says (-1 when unreadable); read
// once.
[[nodiscard]] long receive_buffer_limit();

// Sets the socket's receive buffer (SO_RCVBUF) to `bytes`; whether it did. A consumer uses it so
// that a whole fetch answer fits in the socket while it decodes the previous one: autotuning
// starts small (tcp_rmem's default) and grows slowly under a request-response pattern, so the
// broker stalled with most of an answer unsent. Leaves the kernel's autotuning in charge when
// bytes is -1 and when receive_buffer_limit() is below `bytes`: the kernel would cap the buffer
// and turn autotuning off, and a capped buffer (Debian's default cap is 208 KiB) replayed slower
// than autotuning.
bool set_receive_buffer(boost::asio::ip::tcp::socket& socket, int bytes);

class client_connection : public std::enable_shared_from_this<client_connection> {
 public:
  struct options {
    std::string client_id = "sluice";
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds request_timeout{30'000};
    std::uint32_t max_response_bytes = frame_format::default_max_response_bytes;
    // SO_RCVBUF of the socket; -1 leaves it to the kernel's autotuning (set_receive_buffer).
    int receive_buffer_bytes = -1;
  };
  using connect_handler = std::function<void(result<std::shared_ptr<client_connection>>)>;
  using response_handler = std::function<void(result<response_frame>)>;
  using written_handler = std::function<void(result<void>)>;
  // Sees a response's message (verified, without an error, of the request's type) as soon as it
  // has arrived, before its payload; the response handler still runs once the payload is in.
  using header_handler = std::function<void(const wire::Response&)>;

  // Resolves and connects to `addr`, then exchanges ApiVersions. The handler gets an open
  // connection, or the error (Asio's for the network, timed_out, unsupported_version,
  // client_closed). Returns the connection being made, so that the caller can close() it
  // meanwhile (nothing else may be done with it before the handler has it).
  static std::shared_ptr<client_connection> async_connect(const boost::asio::any_io_executor& ex,
                                                          broker_address addr, options opts,
                                                          connect_handler handler);

  client_connection(const client_connection&) = delete;
  client_connection& operator=(const client_connection&) = delete;
  ~client_connection();

  // Sends a request and delivers its response. Fails with: unsupported_version (the broker's
  // range lacks this client's version; nothing sent), the broker's request-level error (e.g.
  // corrupt_message), protocol_violation (a body of another type), timed_out after
  // request_timeout + extra_timeout (a long poll passes its max wait here; the connection is
  // then closed), connection_lost (also when another request on it timed out), client_closed.
  // on_header (optional) is called first when the message has arrived (header_handler); not at
  // all when the request fails.
  void send(request_builder req, response_handler handler,
            std::chrono::milliseconds extra_timeout = std::chrono::milliseconds{0},
            header_handler on_header = nullptr);
  // Sends a request that has no response (Produce with acks=0); the handler runs once the
  // frame is written to the socket, or with the error: timed_out (the connection is then
  // closed) when a write to the socket has not finished within request_timeout, as when the
  // broker has stopped reading.
  void send_oneway(request_builder req, written_handler handler);

  // Closes the socket; pending requests fail with client_closed. Idempotent. While connecting,
  // ends the connect: its handler gets the error.
  void close();

  [[nodiscard]] bool is_open() const { return open_; }
  [[nodiscard]] const broker_address& address() const { return addr_; }
  [[nodiscard]] const std::string& broker_software_version() const { return broker_version_; }
  // The largest request frame the broker reads (its --max-request-bytes), as its ApiVersions
  // answer said; nullopt from a broker that does not say (one older than the field).
  [[nodiscard]] std::optional<std::uint32_t> broker_request_limit() const {
    if (broker_request_limit_ == 0) return std::nullopt;
    return broker_request_limit_;
  }
  [[nodiscard]] std::size_t requests_in_flight() const { return in_flight_.size(); }

 private:
  using clock = std::chrono::steady_clock;
  struct pending {
    wire::RequestBody type;
    clock::time_point deadline;
    response_handler handler;
    header_handler on_header;
  };
  struct queued_frame {
    request_builder frame;
    written_handler on_written;  // oneway frames only
  };

  client_connection(const boost::asio::any_io_executor& ex, broker_address addr, options opts);

  boost::asio::awaitable<void> connect(connect_handler handler);
  // Runs the connect's handler, the first time only (the connect's end, or the deadline or
  // close() while the name is being resolved).
  void answer_connect(result<std::shared_ptr<client_connection>> r);
  [[nodiscard]] error connect_timed_out() const;
  [[nodiscard]] error connect_closed() const;
  void start_handshake(connect_handler handler);
  void enqueue(request_builder req, written_handler on_written);
  void write_some_frames();
  boost::asio::awaitable<void> read_loop();
  void announce_header(byte_span message);
  void dispatch(response_frame frame);
  boost::asio::awaitable<void> sweep_timeouts();
  result<void> check_version(wire::RequestBody type) const;
  void fail_everything(const error& e);

  boost::asio::any_io_executor ex_;
  broker_address addr_;
  options opts_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer sweep_timer_;
  bool open_ = false;
  bool closed_while_connecting_ = false;  // close() before open_: connect() reports client_closed
  bool resolving_ = false;                // connect() is waiting for the name's addresses
  std::shared_ptr<connect_handler> connect_answer_;  // until answer_connect() or the handshake
  bool writing_ = false;
  clock::time_point write_started_;  // of the write in progress (writing_)
  std::uint64_t next_request_id_ = 1;
  std::unordered_map<std::uint64_t, pending> in_flight_;
  std::size_t header_waiters_ = 0;  // requests in in_flight_ with an on_header
  std::shared_ptr<receive_buffer_pool> receive_buffers_ = std::make_shared<receive_buffer_pool>();
  std::deque<queued_frame> write_queue_;
  std::vector<api_version_range> broker_versions_;
  std::string broker_version_;
  std::uint32_t broker_request_limit_ = 0;  // 0: not said
};

}  // namespace sluice
