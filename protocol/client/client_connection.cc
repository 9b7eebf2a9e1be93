#include "protocol/client/client_connection.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <utility>

#include "protocol/client/client_errc.h"
#include "protocol/frame.h"
#include "protocol/wire_errc.h"

namespace sluice {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_frames_per_write = 64;
constexpr auto sweep_period = std::chrono::milliseconds(50);

error network_error(const boost::system::error_code& ec, const broker_address& addr,
                    std::string_view what) {
  return error{ec, fmt::format("{} {}: {}", what, addr.to_string(), ec.message())};
}

}  // namespace

long receive_buffer_limit() {
  static const long limit = [] {
    std::ifstream in("/proc/sys/net/core/rmem_max");
    long value = -1;
    return in >> value ? value : -1L;
  }();
  return limit;
}

bool set_receive_buffer(tcp::socket& socket, int bytes) {
  if (bytes < 0 || receive_buffer_limit() < bytes) return false;
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::receive_buffer_size(bytes), ec);
  return !ec;
}

client_connection::client_connection(const asio::any_io_executor& ex, broker_address addr,
                                     options opts)
    : ex_(ex), addr_(std::move(addr)), opts_(std::move(opts)), socket_(ex), sweep_timer_(ex) {}

client_connection::~client_connection() = default;

std::shared_ptr<client_connection> client_connection::async_connect(const asio::any_io_executor& ex,
                                                                    broker_address addr,
                                                                    options opts,
                                                                    connect_handler handler) {
  std::shared_ptr<client_connection> c(new client_connection(ex, std::move(addr), std::move(opts)));
  // The function object (holding c) lives until the coroutine ends; connect() only starts
  // running after this returns, so `c` alone would not keep the connection alive until then.
  asio::co_spawn(
      ex, [c, handler = std::move(handler)]() mutable { return c->connect(std::move(handler)); },
      asio::detached);
  return c;
}

asio::awaitable<void> client_connection::connect(connect_handler handler) {
  auto self = shared_from_this();
  connect_answer_ = std::make_shared<connect_handler>(std::move(handler));
  // The deadline's handler may run after this coroutine has finished: it holds only shared
  // state.
  auto resolver = std::make_shared<tcp::resolver>(ex_);
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex_, opts_.connect_timeout);
  deadline.async_wait([self, resolver, expired](boost::system::error_code ec) {
    // Open: the connect finished just as the deadline passed, too late to cancel this.
    if (ec || self->open_) return;
    *expired = true;
    resolver->cancel();
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    // A name being resolved is not given up by the cancel (getaddrinfo runs to its end on
    // Asio's resolver thread, as long as the DNS servers take): the caller hears now.
    if (self->resolving_) self->answer_connect(self->connect_timed_out());
  });
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code not_an_address;
  const auto literal = asio::ip::make_address(addr_.host, not_an_address);
  if (!not_an_address) {
    // No resolver for an address: an io_context's lookups all wait on one thread, so a name
    // whose resolution hangs would hold it up too (a failover to the next bootstrap broker).
    endpoints.emplace_back(literal, addr_.port);
  } else if (!closed_while_connecting_) {
    resolving_ = true;
    auto [rec, found] =
        co_await resolver->async_resolve(addr_.host, std::to_string(addr_.port), use_tuple);
    resolving_ = false;
    if (!connect_answer_) co_return;  // answered while resolving (deadline, close)
    ec = rec;
    for (const auto& entry : found) endpoints.push_back(entry.endpoint());
  }
  if (!ec && !*expired && !closed_while_connecting_) {
    auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, use_tuple);
    ec = cec;
  }
  deadline.cancel();
  if (closed_while_connecting_) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    answer_connect(connect_closed());
    co_return;
  }
  if (*expired) {
    answer_connect(connect_timed_out());
    co_return;
  }
  if (ec) {
    answer_connect(network_error(ec, addr_, "connecting to"));
    co_return;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  set_receive_buffer(socket_, opts_.receive_buffer_bytes);
  open_ = true;
  asio::co_spawn(ex_, read_loop(), asio::detached);
  asio::co_spawn(ex_, sweep_timeouts(), asio::detached);
  start_handshake(std::move(*std::exchange(connect_answer_, nullptr)));
}

void client_connection::answer_connect(result<std::shared_ptr<client_connection>> r) {
  const auto answer = std::exchange(connect_answer_, nullptr);
  if (answer && *answer) (*answer)(std::move(r));
}

error client_connection::connect_timed_out() const {
  return make_error(
      client_errc::timed_out,
      fmt::format("connecting to {} took longer than {} ms{}", addr_.to_string(),
                  opts_.connect_timeout.count(), resolving_ ? " (resolving its name)" : ""));
}

error client_connection::connect_closed() const {
  return make_error(client_errc::client_closed,
                    fmt::format("connecting to {}: closed by the client", addr_.to_string()));
}

void client_connection::start_handshake(connect_handler handler) {
  request_builder req;
  auto& fbb = req.fbb();
  req.set_body(wire::CreateApiVersionsRequest(
      fbb, fbb.CreateString("sluice-cpp"),
      fbb.CreateString(software_version.data(), software_version.size())));
  const auto id = next_request_id_++;
  req.finish(id, client_version(wire::RequestBody::ApiVersionsRequest), opts_.client_id);
  in_flight_.emplace(
      id, pending{wire::RequestBody::ApiVersionsRequest, clock::now() + opts_.connect_timeout,
                  // Only `this`: the pending entry is owned by this connection, so holding
                  // `self` here would be a cycle that leaks the connection whenever the loop
                  // stops before the broker answers. Whoever runs the handler holds a reference.
                  [this, handler = std::move(handler)](result<response_frame> r) {
                    if (!r) {
                      close();
                      handler(r.error());
                      return;
                    }
                    const auto* body = r->body<wire::ApiVersionsResponse>();
                    if (body->apis() != nullptr) {
                      for (const auto* a : *body->apis()) {
                        broker_versions_.push_back({static_cast<wire::RequestBody>(a->api()),
                                                    a->min_version(), a->max_version()});
                      }
                    }
                    if (body->broker_software_version() != nullptr) {
                      broker_version_ = body->broker_software_version()->str();
                    }
                    broker_request_limit_ = body->max_request_bytes();
                    handler(shared_from_this());
                  },
                  nullptr});
  enqueue(std::move(req), nullptr);
}

result<void> client_connection::check_version(wire::RequestBody type) const {
  const auto wanted = client_version(type);
  for (const auto& r : broker_versions_) {
    if (r.api == type && r.min_version <= wanted && wanted <= r.max_version) return {};
  }
  return make_error(client_errc::unsupported_version,
                    fmt::format("broker {} (version {}) does not support {} version {}",
                                addr_.to_string(), broker_version_, api_name(type), wanted));
}

void client_connection::send(request_builder req, response_handler handler,
                             std::chrono::milliseconds extra_timeout, header_handler on_header) {
  auto fail = [&](error e) {
    asio::post(ex_, [h = std::move(handler), e = std::move(e)]() mutable { h(std::move(e)); });
  };
  if (!open_) return fail(make_error(client_errc::connection_lost, "connection is closed"));
  if (auto v = check_version(req.type()); !v) return fail(v.error());
  const auto id = next_request_id_++;
  req.finish(id, client_version(req.type()), opts_.client_id);
  if (on_header) ++header_waiters_;
  in_flight_.emplace(id, pending{req.type(), clock::now() + opts_.request_timeout + extra_timeout,
                                 std::move(handler), std::move(on_header)});
  enqueue(std::move(req), nullptr);
}

void client_connection::send_oneway(request_builder req, written_handler handler) {
  auto fail = [&](error e) {
    asio::post(ex_, [h = std::move(handler), e = std::move(e)]() mutable { h(std::move(e)); });
  };
  if (!open_) return fail(make_error(client_errc::connection_lost, "connection is closed"));
  if (auto v = check_version(req.type()); !v) return fail(v.error());
  req.finish(next_request_id_++, client_version(req.type()), opts_.client_id);
  enqueue(std::move(req), std::move(handler));
}

void client_connection::enqueue(request_builder req, written_handler on_written) {
  write_queue_.push_back(queued_frame{std::move(req), std::move(on_written)});
  if (!writing_) write_some_frames();
}

void client_connection::write_some_frames() {
  if (write_queue_.empty() || !open_) return;
  writing_ = true;
  write_started_ = clock::now();
  const auto n = std::min(write_queue_.size(), max_frames_per_write);
  auto buffers = std::make_shared<std::vector<asio::const_buffer>>();
  for (std::size_t i = 0; i < n; ++i) write_queue_[i].frame.append_buffers(*buffers);
  asio::async_write(
      socket_, *buffers,
      [this, self = shared_from_this(), buffers, n](boost::system::error_code ec, std::size_t) {
        writing_ = false;
        for (std::size_t i = 0; i < n && !write_queue_.empty(); ++i) {
          auto done = std::move(write_queue_.front().on_written);
          write_queue_.pop_front();
          if (!done) continue;
          if (ec) {
            done(network_error(ec, addr_, "writing to"));
          } else {
            done({});
          }
        }
        if (ec) {
          fail_everything(network_error(ec, addr_, "writing to"));
          return;
        }
        write_some_frames();
      });
}

asio::awaitable<void> client_connection::read_loop() {
  auto self = shared_from_this();
  std::array<std::byte, frame_format::prefix_size> prefix{};
  while (open_) {
    auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), use_tuple);
    if (ec) {
      fail_everything(network_error(ec, addr_, "reading from"));
      co_return;
    }
    auto p = parse_frame_prefix(prefix, opts_.max_response_bytes);
    if (!p) {
      fail_everything(p.error());
      co_return;
    }
    // Not zeroed: every byte is read into it before use, and a fetch answer is megabytes.
    std::shared_ptr<std::byte[]> body = receive_buffers_->acquire(p->body_size());
    auto [mec, mn] =
        co_await asio::async_read(socket_, asio::buffer(body.get(), p->message_length), use_tuple);
    if (mec) {
      fail_everything(network_error(mec, addr_, "reading from"));
      co_return;
    }
    if (header_waiters_ > 0) announce_header({body.get(), p->message_length});
    if (!open_) co_return;  // a header handler closed the connection
    auto [bec, bn] = co_await asio::async_read(
        socket_, asio::buffer(body.get() + p->message_length, p->payload_size()), use_tuple);
    if (bec) {
      fail_everything(network_error(bec, addr_, "reading from"));
      co_return;
    }
    auto frame = response_frame::parse(std::move(body), p->body_size(), p->message_length);
    if (!frame) {
      fail_everything(frame.error());
      co_return;
    }
    dispatch(std::move(*frame));
  }
}

void client_connection::announce_header(byte_span message) {
  // A message that does not verify is reported by the full parse; here it is only skipped.
  auto r = verify_response(message);
  if (!r || (*r)->error() != wire::ErrorCode::none) return;
  auto it = in_flight_.find((*r)->request_id());
  if (it == in_flight_.end() || !it->second.on_header) return;
  if (static_cast<std::uint8_t>((*r)->body_type()) != static_cast<std::uint8_t>(it->second.type)) {
    return;
  }
  // Emptied here, so dispatch() does not count this request among the waiters again.
  auto on_header = std::exchange(it->second.on_header, nullptr);
  --header_waiters_;
  on_header(**r);
}

void client_connection::dispatch(response_frame frame) {
  const auto& r = frame.response();
  auto it = in_flight_.find(r.request_id());
  if (it == in_flight_.end()) {
    if (r.request_id() == 0) {
      // The broker refused a frame it could not tie to a request (too large, unreadable) and
      // closes the connection after answering what it read before. Which request that was is
      // unknown, and the others' answers will not come: each may or may not have been carried
      // out, so none may be reported as refused (an idempotent producer would take back
      // sequence numbers of stored batches).
      auto e = wire::to_result(r.error(), r.error_message());
      fail_everything(make_error(
          client_errc::connection_lost,
          fmt::format("{} refused a request on this connection and closes it ({}); the other "
                      "requests in flight on it may or may not have been carried out",
                      addr_.to_string(), e ? "no reason given" : e.error().message())));
    } else if (r.request_id() >= next_request_id_) {
      // Not a late answer to a timed-out request: the stream cannot be trusted.
      fail_everything(make_error(client_errc::protocol_violation,
                                 fmt::format("response to unknown request id {} from {}",
                                             r.request_id(), addr_.to_string())));
    }
    return;  // the request timed out earlier
  }
  auto p = std::move(it->second);
  in_flight_.erase(it);
  if (p.on_header) --header_waiters_;
  if (auto e = wire::to_result(r.error(), r.error_message()); !e) {
    p.handler(e.error());
    return;
  }
  if (static_cast<std::uint8_t>(r.body_type()) != static_cast<std::uint8_t>(p.type)) {
    p.handler(make_error(client_errc::protocol_violation,
                         fmt::format("{} request answered with response type {}", api_name(p.type),
                                     static_cast<int>(r.body_type()))));
    return;
  }
  p.handler(std::move(frame));
}

asio::awaitable<void> client_connection::sweep_timeouts() {
  auto self = shared_from_this();
  while (open_) {
    sweep_timer_.expires_after(sweep_period);
    auto [ec] = co_await sweep_timer_.async_wait(use_tuple);
    if (ec || !open_) co_return;
    const auto now = clock::now();
    if (writing_ && now - write_started_ > opts_.request_timeout) {
      // The broker stopped reading (its receive window is shut): no answer will come either,
      // and a one-way frame has no response whose deadline would have noticed.
      fail_everything(make_error(
          client_errc::timed_out,
          fmt::format("writing to {} did not finish within the request timeout ({} ms); the "
                      "broker is not reading, the connection is closed",
                      addr_.to_string(), opts_.request_timeout.count())));
      co_return;
    }
    std::vector<response_handler> expired;
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second.deadline <= now) {
        if (it->second.on_header) --header_waiters_;
        expired.push_back(std::move(it->second.handler));
        it = in_flight_.erase(it);
      } else {
        ++it;
      }
    }
    if (expired.empty()) continue;
    // As Kafka's clients do: a broker that left a request unanswered this long may never answer
    // anything on this connection again (a half-open connection after the peer vanished looks
    // exactly like this and can stay "open" for hours). Close it, so callers retry on a new
    // connection instead of queueing behind a dead one. Closed first: no handler below may send
    // on it.
    open_ = false;
    const auto late = make_error(
        client_errc::timed_out,
        fmt::format("no response from {} within the request timeout", addr_.to_string()));
    for (auto& h : expired) h(late);
    fail_everything(
        make_error(client_errc::connection_lost,
                   fmt::format("connection to {} closed because a request on it timed out",
                               addr_.to_string())));
  }
}

void client_connection::close() {
  if (!open_) {
    // Still resolving or connecting: the connect ends with the socket's error and reports it.
    closed_while_connecting_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    // The resolve may take long to return. Posted: the caller may be walking its connections.
    if (resolving_) {
      asio::post(ex_, [self = shared_from_this()] {
        if (self->resolving_) self->answer_connect(self->connect_closed());
      });
    }
    return;
  }
  fail_everything(make_error(client_errc::client_closed, "connection closed by the client"));
}

void client_connection::fail_everything(const error& e) {
  open_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  sweep_timer_.cancel();
  // A network error reaches callers as connection_lost with the reason; other errors as they are.
  error reported = e;
  if (e.code.category() != client_category() && e.code.category() != wire::wire_category()) {
    reported = make_error(client_errc::connection_lost, e.detail);
  }
  auto waiting = std::move(in_flight_);
  in_flight_.clear();
  header_waiters_ = 0;
  auto queued = std::move(write_queue_);
  write_queue_.clear();
  for (auto& q : queued) {
    if (q.on_written) q.on_written(reported);
  }
  for (auto& [id, p] : waiting) p.handler(reported);
}

}  // namespace sluice
