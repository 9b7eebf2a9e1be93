// client_connection's lifetime: a connection whose loop stops before the broker answers must
// not outlive it (its handlers hold the caller's state).

#include "protocol/client/client_connection.h"

#include <doctest/doctest.h>

#include <algorithm>
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

TEST_CASE("set_receive_buffer sizes SO_RCVBUF, and -1 leaves the kernel's default") {
  using boost::asio::ip::tcp;
  boost::asio::io_context ctx;
  auto rcvbuf_of = [](tcp::socket& s) {
    tcp::socket::receive_buffer_size size;
    s.get_option(size);
    return size.value();
  };
  tcp::socket untouched(ctx, tcp::v4());
  const int kernel_default = rcvbuf_of(untouched);
  CHECK_FALSE(set_receive_buffer(untouched, -1));
  CHECK(rcvbuf_of(untouched) == kernel_default);

  const long cap = receive_buffer_limit();
  REQUIRE(cap > 0);
  const int within = static_cast<int>(std::min(cap, 1L << 20));
  tcp::socket sized(ctx, tcp::v4());
  CHECK(set_receive_buffer(sized, within));
  CHECK(rcvbuf_of(sized) >= within);  // Linux reports twice the size (its bookkeeping)

  // Above the cap the kernel would shrink it and stop autotuning: left alone instead.
  tcp::socket above(ctx, tcp::v4());
  CHECK_FALSE(set_receive_buffer(above, static_cast<int>(std::min(cap + 1, 1L << 30))));
  CHECK(rcvbuf_of(above) == kernel_default);
}

}  // namespace sluice
