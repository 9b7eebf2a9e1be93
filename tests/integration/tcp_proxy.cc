#include "tests/integration/tcp_proxy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

namespace sluice::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct tcp_proxy::session {
  explicit session(asio::io_context& ctx) : client(ctx), server(ctx) {}
  tcp::socket client;
  tcp::socket server;
  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
};

tcp_proxy::tcp_proxy(std::uint16_t target) : target_(target), acceptor_(io_.context()) {
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_.context(), accept_loop(), asio::detached);
}

tcp_proxy::~tcp_proxy() {
  io_.call([this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    close_all();
  });
  io_.stop();
}

std::string tcp_proxy::address() const {
  return fmt::format("127.0.0.1:{}", port_);
}

void tcp_proxy::drop_connections() {
  io_.call([this] { close_all(); });
}

asio::awaitable<void> tcp_proxy::accept_loop() {
  for (;;) {
    auto s = std::make_shared<session>(io_.context());
    auto [ec] = co_await acceptor_.async_accept(s->client, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    const tcp::endpoint target(asio::ip::make_address("127.0.0.1"), target_.load());
    auto [cec] = co_await s->server.async_connect(target, asio::as_tuple(asio::use_awaitable));
    if (cec) {  // the broker is down: the client's connection just closes
      s->close();
      continue;
    }
    ++connections_;
    std::erase_if(sessions_, [](const std::weak_ptr<session>& w) { return w.expired(); });
    sessions_.push_back(s);
    asio::co_spawn(io_.context(), pump(s, s->client, s->server), asio::detached);
    asio::co_spawn(io_.context(), pump(s, s->server, s->client, cut_next_after_.exchange(SIZE_MAX)),
                   asio::detached);
  }
}

asio::awaitable<void> tcp_proxy::pump(std::shared_ptr<session> s, tcp::socket& from,
                                      tcp::socket& to, std::size_t limit) {
  std::array<char, 64 * 1024> buf{};
  while (limit > 0) {
    auto [ec, n] = co_await from.async_read_some(
        asio::buffer(buf.data(), std::min(buf.size(), limit)), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n),
                                                asio::as_tuple(asio::use_awaitable));
    if (wec) break;
    limit -= n;
  }
  s->close();
}

void tcp_proxy::close_all() {
  for (auto& w : sessions_) {
    if (auto s = w.lock()) s->close();
  }
  sessions_.clear();
}

}  // namespace sluice::testing
