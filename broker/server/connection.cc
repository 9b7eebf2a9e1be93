#include "broker/server/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "broker/handlers/request_context.h"
#include "broker/service.h"
#include "protocol/api_versions.h"
#include "protocol/wire_errc.h"
#include "segment/segment.h"

namespace sluice {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto watchdog_period = std::chrono::milliseconds(250);
// Small requests count at least this much, so a flood of tiny pipelined requests is bounded too.
constexpr std::size_t min_request_charge = 4096;

std::string peer_of(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? std::string("unknown") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

bool version_supported(wire::RequestBody type, std::uint16_t version) {
  for (const auto& r : supported_api_versions()) {
    if (r.api == type) return r.min_version <= version && version <= r.max_version;
  }
  return false;
}

}  // namespace

connection::connection(tcp::socket socket, service& svc, connection_limits limits,
                       connection_set& owner, std::function<bool()> stopping)
    : socket_(std::move(socket)),
      svc_(svc),
      limits_(limits),
      owner_(owner),
      stopping_(std::move(stopping)),
      peer_(peer_of(socket_)),
      room_timer_(socket_.get_executor()),
      write_signal_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()) {}

connection::~connection() = default;

void connection::start() {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // sendfile must not block the shard
  spdlog::debug("connection opened peer={}", peer_);
  asio::co_spawn(socket_.get_executor(), read_loop(), asio::detached);
  asio::co_spawn(socket_.get_executor(), write_loop(), asio::detached);
  asio::co_spawn(socket_.get_executor(), watchdog(), asio::detached);
}

void connection::close(std::string_view reason) {
  if (!open_) return;
  open_ = false;
  reading_ = false;
  spdlog::info("connection closed peer={} reason=\"{}\"", peer_, reason);
  boost::system::error_code ec;
  socket_.close(ec);
  room_timer_.cancel();
  write_signal_.cancel();
  watchdog_timer_.cancel();
  responses_.clear();
  owner_.remove(this);
}

void connection::shut_down_gracefully() {
  if (!open_) return;
  reading_ = false;
  boost::system::error_code ec;
  // A pending read of the next frame ends with EOF; responses can still be written.
  socket_.shutdown(tcp::socket::shutdown_receive, ec);
  room_timer_.cancel();
  maybe_finish_shutdown();
}

void connection::maybe_finish_shutdown() {
  if (open_ && !reading_ && requests_in_flight_ == 0 && responses_.empty()) {
    close(stopping_() ? "broker shutting down" : "closing after an error response");
  }
}

asio::awaitable<void> connection::watchdog() {
  auto self = shared_from_this();
  while (open_) {
    watchdog_timer_.expires_after(watchdog_period);
    auto [ec] = co_await watchdog_timer_.async_wait(use_tuple);
    if (ec || !open_) co_return;
    if (clock::now() > read_deadline_) close(deadline_reason_);
  }
}

asio::awaitable<void> connection::wait_for_room() {
  while (open_ && reading_ && in_flight_bytes_ > limits_.max_in_flight_bytes) {
    room_timer_.expires_at(clock::time_point::max());
    co_await room_timer_.async_wait(use_tuple);
  }
}

asio::awaitable<void> connection::read_loop() {
  auto self = shared_from_this();
  std::array<std::byte, frame_format::prefix_size> prefix{};
  while (open_ && reading_) {
    co_await wait_for_room();
    if (!open_ || !reading_) break;
    read_deadline_ = clock::now() + limits_.idle_timeout;
    deadline_reason_ = "idle: no request within the idle timeout";
    auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), use_tuple);
    if (ec) {
      if (ec == asio::error::eof && !reading_) break;  // graceful shutdown
      close(ec == asio::error::eof ? "client closed the connection" : ec.message());
      co_return;
    }
    auto p = parse_frame_prefix(prefix, limits_.max_request_bytes);
    if (!p) {
      refuse_frame(p.error());
      co_return;
    }
    read_deadline_ = clock::now() + limits_.frame_read_timeout;
    deadline_reason_ = "stalled in the middle of a frame";
    auto body = std::make_shared<byte_buffer>(p->body_size());
    auto [bec, bn] = co_await asio::async_read(socket_, asio::buffer(*body), use_tuple);
    read_deadline_ = clock::time_point::max();
    if (bec) {
      close(fmt::format("connection lost in the middle of a frame: {}", bec.message()));
      co_return;
    }
    handle_frame(std::move(body), *p);
  }
  read_deadline_ = clock::time_point::max();
  maybe_finish_shutdown();
}

void connection::refuse_frame(const error& e) {
  spdlog::warn("refusing frame peer={} reason=\"{}\"", peer_, e.message());
  response_builder b;
  b.finish_error(0, static_cast<wire::ErrorCode>(e.code.value()), e.detail);
  reading_ = false;
  read_deadline_ = clock::time_point::max();
  respond(0, std::move(b));
}

void connection::handle_frame(std::shared_ptr<byte_buffer> body, const frame_prefix& prefix) {
  const byte_span all(*body);
  auto request = verify_request(all.first(prefix.message_length));
  if (!request) return refuse_frame(request.error());
  const auto* req = *request;
  const std::size_t charge = std::max(body->size(), min_request_charge);
  in_flight_bytes_ += charge;
  ++requests_in_flight_;
  auto reply_error = [&](wire::ErrorCode code, std::string message) {
    response_builder b;
    b.finish_error(req->request_id(), code, message);
    respond(charge, std::move(b));
  };
  const auto type = req->body_type();
  auto handler = handler_for(type);
  if (handler == nullptr || req->body() == nullptr) {
    return reply_error(
        wire::ErrorCode::unsupported_request,
        fmt::format("request type {} is not supported by this broker", static_cast<int>(type)));
  }
  if (!version_supported(type, req->version())) {
    return reply_error(wire::ErrorCode::unsupported_version,
                       fmt::format("{} version {} is not supported (see ApiVersions)",
                                   api_name(type), req->version()));
  }
  auto self = shared_from_this();
  handler(request_context{
      svc_, socket_.get_executor(), body, req, all.subspan(prefix.message_length),
      [self, charge](std::optional<response_builder> r) { self->respond(charge, std::move(r)); },
      [self](std::string_view reason) { self->close(reason); }, stopping_});
}

void connection::respond(std::size_t request_bytes, std::optional<response_builder> r) {
  if (request_bytes > 0) --requests_in_flight_;
  if (!open_) return;
  if (!r) {
    release(request_bytes);
    return;
  }
  in_flight_bytes_ += r->frame_size();
  responses_.push_back({std::move(*r), request_bytes});
  write_signal_.cancel();
}

void connection::release(std::size_t bytes) {
  in_flight_bytes_ -= std::min(bytes, in_flight_bytes_);
  if (in_flight_bytes_ <= limits_.max_in_flight_bytes) room_timer_.cancel();
  maybe_finish_shutdown();
}

asio::awaitable<void> connection::write_loop() {
  auto self = shared_from_this();
  while (open_) {
    if (responses_.empty()) {
      if (!reading_ && requests_in_flight_ == 0) {
        maybe_finish_shutdown();
        co_return;
      }
      write_signal_.expires_at(clock::time_point::max());
      co_await write_signal_.async_wait(use_tuple);
      continue;
    }
    auto& front = responses_.front();
    std::array<asio::const_buffer, 2> head{
        asio::buffer(front.response.prefix()),
        asio::buffer(front.response.message().data(), front.response.message().size())};
    auto [ec, n] = co_await asio::async_write(socket_, head, use_tuple);
    if (ec) {
      close(fmt::format("write failed: {}", ec.message()));
      co_return;
    }
    for (const auto& slice : front.response.slices()) {
      if (!co_await send_slice(slice)) co_return;
    }
    if (!open_) co_return;
    const auto done = front.request_bytes + front.response.frame_size();
    responses_.pop_front();
    release(done);
  }
}

asio::awaitable<bool> connection::send_slice(const log_slice& slice) {
  auto pos = static_cast<off_t>(slice.position.value);
  std::size_t left = slice.size;
  while (left > 0 && open_) {
    const ssize_t n = ::sendfile(socket_.native_handle(), slice.file->fd(), &pos, left);
    if (n > 0) {
      left -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto [ec] = co_await socket_.async_wait(tcp::socket::wait_write, use_tuple);
      if (ec) {
        close(fmt::format("write failed: {}", ec.message()));
        co_return false;
      }
      continue;
    }
    // A segment file shorter than the slice (or an I/O error): the frame cannot be completed.
    const std::string why = n == 0 ? "file ended early" : std::strerror(errno);
    spdlog::error("sendfile of {} at {} failed: {}", slice.file->path().string(), pos, why);
    close("sending records failed: " + why);
    co_return false;
  }
  co_return open_;
}

void connection_set::close_all(std::string_view reason) {
  auto copy = all_;
  for (auto& [raw, weak] : copy) {
    if (auto c = weak.lock()) c->close(reason);
  }
}

void connection_set::shut_down_all() {
  auto copy = all_;
  for (auto& [raw, weak] : copy) {
    if (auto c = weak.lock()) c->shut_down_gracefully();
  }
}

}  // namespace sluice
