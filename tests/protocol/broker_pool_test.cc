// broker_pool: closing a pool answers the callers still waiting for its connect, so nothing they
// hold (a consumer's fetcher holds the pool) outlives the client.

#include "protocol/client/broker_pool.h"

#include <doctest/doctest.h>

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
}

}  // namespace sluice
