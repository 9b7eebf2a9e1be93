// broker_pool: closing a pool answers the callers still waiting for its connect, so nothing they
// hold (a consumer's fetcher holds the pool) outlives the client, and closes the connection
// being made.

#include "protocol/client/broker_pool.h"

#include <doctest/doctest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "protocol/client/client_errc.h"

namespace sluice {

TEST_CASE("a pool closed while its handshake is unanswered fails the waiting send at once") {
  using boost::asio::ip::tcp;
  boost::asio::io_context ctx;
  // A "broker" that accepts and never answers: the pool's connect stays in its handshake.
  tcp::acceptor listener(ctx, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  tcp::socket silent_peer(ctx);
  listener.async_accept(silent_peer, [](const boost::system::error_code&) {});
  auto pool = std::make_shared<broker_pool>(
      ctx.get_executor(),
      std::vector<broker_address>{{"127.0.0.1", listener.local_endpoint().port()}},
      client_connection::options{});
  std::optional<error> answer;
  pool->send(request_builder{}, [&](result<response_frame> r) {
    REQUIRE_FALSE(r.has_value());
    answer = r.error();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((!silent_peer.is_open() || silent_peer.available() == 0) &&
         std::chrono::steady_clock::now() < deadline) {
    ctx.run_for(std::chrono::milliseconds(20));
  }
  REQUIRE(silent_peer.available() > 0);  // the ApiVersions request arrived, unanswered
  CHECK_FALSE(answer.has_value());

  pool->close();
  ctx.run_for(std::chrono::milliseconds(100));  // well within the 10 s connect timeout
  REQUIRE(answer.has_value());
  CHECK(answer->code == client_errc::client_closed);
  // The connection being made is closed too, not left open until its handshake times out.
  silent_peer.non_blocking(true);
  std::array<std::byte, 64> sink{};
  boost::system::error_code ec;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ec != boost::asio::error::eof && std::chrono::steady_clock::now() < until) {
    ec = {};
    silent_peer.read_some(boost::asio::buffer(sink), ec);  // the request, then EOF
    if (ec == boost::asio::error::would_block) ctx.run_for(std::chrono::milliseconds(10));
  }
  CHECK(ec == boost::asio::error::eof);
}

}  // namespace sluice
