#include "broker/server/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

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

// Logs that reading paused on the broker-wide budget at most once a second, not per frame:
// under pressure that would be thousands of lines.
void log_budget_spent(const in_flight_budget& budget) {
  static std::atomic<std::int64_t> last_ms{0};
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  auto last = last_ms.load();
  if (now - last < 1000 || !last_ms.compare_exchange_strong(last, now)) return;
  spdlog::info(
      "reading paused: broker-wide in-flight budget spent ({} of {} bytes, {} connection(s) "
      "waiting; --max-in-flight-bytes)",
      budget.used(), budget.limit(), budget.waiting());
}

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
                       in_flight_budget& budget, connection_set& owner,
                       std::function<bool()> stopping)
    : socket_(std::move(socket)),
      svc_(svc),
      limits_(limits),
      budget_(budget),
      owner_(owner),
      stopping_(std::move(stopping)),
      peer_(peer_of(socket_)),
      room_timer_(socket_.get_executor()),
      write_signal_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()),
      budget_timer_(socket_.get_executor()) {}

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
  budget_timer_.cancel();
  responses_.clear();
  // Requests still in a handler answer into a closed connection (respond() drops them), so
  // everything this connection holds of the broker-wide budget goes back now.
  budget_.give_back(std::exchange(budget_held_, 0));
  owner_.remove(this);
  for (auto& weak : std::exchange(abandon_on_close_, {})) {
    if (auto op = weak.lock()) op->abandon();
  }
}

void connection::abandon_on_close(std::weak_ptr<abandonable> op) {
  if (!open_) {
    if (auto live = op.lock()) live->abandon();
    return;
  }
  if (abandon_on_close_.size() >= abandon_prune_at_) {
    std::erase_if(abandon_on_close_, [](const auto& weak) { return weak.expired(); });
    abandon_prune_at_ = std::max<std::size_t>(16, 2 * abandon_on_close_.size());
  }
  abandon_on_close_.push_back(std::move(op));
}

void connection::shut_down_gracefully() {
  if (!open_) return;
  reading_ = false;
  boost::system::error_code ec;
  // A pending read of the next frame ends with EOF; responses can still be written.
  socket_.shutdown(tcp::socket::shutdown_receive, ec);
  room_timer_.cancel();
  budget_timer_.cancel();
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
    const auto now = clock::now();
    if (now > read_deadline_) {
      if (read_deadline_is_idle_ && (requests_in_flight_ > 0 || !responses_.empty())) {
        // Not idle: a request is still being answered (a long poll, a slow group commit).
        // The idle timeout counts from when it last had one.
        read_deadline_ = now + limits_.idle_timeout;
      } else {
        close(deadline_reason_);
      }
    }
    if (open_ && !responses_.empty() && now - write_progress_at_ > limits_.write_timeout) {
      close("not reading its responses: no write progress within the write timeout");
    }
  }
}

asio::awaitable<void> connection::wait_for_room() {
  while (open_ && reading_ && in_flight_bytes_ > limits_.max_in_flight_bytes) {
    room_timer_.expires_at(clock::time_point::max());
    co_await room_timer_.async_wait(use_tuple);
  }
}

// Takes `bytes` of the broker-wide budget, waiting (and reading nothing) while it is spent.
// False when the connection closed or stopped reading meanwhile (nothing is then held).
asio::awaitable<bool> connection::take_budget(std::size_t bytes) {
  if (budget_.try_take(bytes)) {
    budget_held_ += bytes;
    co_return true;
  }
  log_budget_spent(budget_);
  // A grant is posted here from whichever shard gave bytes back; the generation tells a grant
  // of this wait from a late one of an earlier, abandoned wait.
  const auto generation = ++budget_wait_generation_;
  budget_granted_ = false;
  const auto ticket =
      budget_.enqueue(bytes, [weak = weak_from_this(), ex = socket_.get_executor(), generation] {
        asio::post(ex, [weak, generation] {
          auto self = weak.lock();
          if (!self || self->budget_wait_generation_ != generation) return;
          self->budget_granted_ = true;
          self->budget_timer_.cancel();
        });
      });
  while (open_ && reading_ && !budget_granted_) {
    budget_timer_.expires_at(clock::time_point::max());
    co_await budget_timer_.async_wait(use_tuple);
  }
  const bool ours = budget_granted_ || !budget_.cancel(ticket);
  ++budget_wait_generation_;
  if (open_ && reading_ && ours) {
    budget_held_ += bytes;
    co_return true;
  }
  if (ours) budget_.give_back(bytes);
  co_return false;
}

asio::awaitable<void> connection::read_loop() {
  auto self = shared_from_this();
  std::array<std::byte, frame_format::prefix_size> prefix{};
  while (open_ && reading_) {
    co_await wait_for_room();
    if (!open_ || !reading_) break;
    read_deadline_ = clock::now() + limits_.idle_timeout;
    read_deadline_is_idle_ = true;
    deadline_reason_ = "idle: no request within the idle timeout";
    auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), use_tuple);
    // Closed meanwhile (the watchdog, a handler): close() gave back all this connection held,
    // so nothing may be taken or handled for it any more.
    if (!open_) co_return;
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
    // The frame's bytes come from the broker-wide budget before its body is allocated. Waiting
    // for them is the broker's doing, not a stall of the client: no deadline meanwhile.
    read_deadline_ = clock::time_point::max();
    const std::size_t charge = std::max(p->body_size(), min_request_charge);
    if (!co_await take_budget(charge)) break;
    read_deadline_ = clock::now() + limits_.frame_read_timeout;
    read_deadline_is_idle_ = false;
    deadline_reason_ = "stalled in the middle of a frame";
    auto body = held_bytes::uninitialized(p->body_size());
    auto [bec, bn] =
        co_await asio::async_read(socket_, asio::buffer(body.data(), body.size()), use_tuple);
    read_deadline_ = clock::time_point::max();
    if (!open_) co_return;
    if (bec) {
      close(fmt::format("connection lost in the middle of a frame: {}", bec.message()));
      co_return;
    }
    handle_frame(std::move(body), *p, charge);
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

void connection::handle_frame(held_bytes body, const frame_prefix& prefix, std::size_t charge) {
  const byte_span all(body);
  auto request = verify_request(all.first(prefix.message_length));
  if (!request) {
    budget_held_ -= charge;
    budget_.give_back(charge);
    return refuse_frame(request.error());
  }
  const auto* req = *request;
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
      svc_, socket_.get_executor(), std::move(body), req, all.subspan(prefix.message_length),
      [self, charge](std::optional<response_builder> r) { self->respond(charge, std::move(r)); },
      [self](std::string_view reason) { self->close(reason); }, stopping_,
      [self](std::weak_ptr<abandonable> op) { self->abandon_on_close(std::move(op)); },
      limits_.max_request_bytes});
}

void connection::respond(std::size_t request_bytes, std::optional<response_builder> r) {
  if (request_bytes > 0) --requests_in_flight_;
  if (!open_) return;
  if (!r) {
    release(request_bytes, request_bytes);
    return;
  }
  in_flight_bytes_ += r->frame_size();
  // The answer to an admitted request must not wait for the budget; it only delays new ones.
  const auto message_bytes = budget_bytes_of(*r);
  budget_.force_take(message_bytes);
  budget_held_ += message_bytes;
  if (responses_.empty()) write_progress_at_ = clock::now();
  responses_.push_back({std::move(*r), request_bytes});
  write_signal_.cancel();
}

std::size_t connection::budget_bytes_of(const response_builder& r) {
  return frame_format::prefix_size + r.message().size();
}

void connection::release(std::size_t bytes, std::size_t budget_bytes) {
  budget_held_ -= std::min(budget_bytes, budget_held_);
  budget_.give_back(budget_bytes);
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
    // A close while the write was in flight (the client hung up, the watchdog) dropped the
    // queued responses, `front` with them, even when the write itself had already succeeded.
    if (!open_) co_return;
    if (ec) {
      close(fmt::format("write failed: {}", ec.message()));
      co_return;
    }
    write_progress_at_ = clock::now();
    for (const auto& slice : front.response.slices()) {
      if (!co_await send_slice(slice)) co_return;
    }
    if (!open_) co_return;
    const auto done = front.request_bytes + front.response.frame_size();
    const auto budget_done = front.request_bytes + budget_bytes_of(front.response);
    responses_.pop_front();
    write_progress_at_ = clock::now();
    release(done, budget_done);
  }
}

asio::awaitable<bool> connection::send_slice(const log_slice& slice) {
  auto pos = static_cast<off_t>(slice.position.value);
  std::size_t left = slice.size;
  while (left > 0 && open_) {
    const ssize_t n = ::sendfile(socket_.native_handle(), slice.file->fd(), &pos, left);
    if (n > 0) {
      left -= static_cast<std::size_t>(n);
      write_progress_at_ = clock::now();
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
