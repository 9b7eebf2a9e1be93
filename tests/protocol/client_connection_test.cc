// client_connection's lifetime: a connection whose loop stops before the broker answers must
// not outlive it (its handlers hold the caller's state).

#include "protocol/client/client_connection.h"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>

namespace sluice {

TEST_CASE("a connection stopped mid-handshake is freed with everything its handler holds") {
  using boost::asio::ip::tcp;
  auto caller_state = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = caller_state;
  {
    boost::asio::io_context ctx;
    // A "broker" that accepts and never answers: the ApiVersions handshake stays pending.
    tcp::acceptor listener(ctx, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket silent_peer(ctx);
    listener.async_accept(silent_peer, [](const boost::system::error_code&) {});
    const broker_address addr{"127.0.0.1", listener.local_endpoint().port()};
    bool handler_ran = false;
    client_connection::async_connect(
        ctx.get_executor(), addr, {},
        [state = std::move(caller_state), &handler_ran](auto) { handler_ran = true; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((!silent_peer.is_open() || silent_peer.available() == 0) &&
           std::chrono::steady_clock::now() < deadline) {
      ctx.run_for(std::chrono::milliseconds(20));
    }
    REQUIRE(silent_peer.available() > 0);  // the ApiVersions request arrived, unanswered
    CHECK_FALSE(handler_ran);
    // The io_context goes away with the handshake pending, as when a client's io thread stops.
  }
  // A connection kept alive by a reference cycle would still hold the handler, and its state.
  CHECK(watch.expired());
}

}  // namespace sluice
