#pragma once
// A TCP proxy on a loopback port, in front of a broker, for integration tests: clients keep one
// address while the test drops their connections (a network failure) or restarts the broker on
// a new port.
//
//   sluice::testing::tcp_proxy proxy(broker.port());
//   auto p = sluice::producer::create({.brokers = proxy.address()}).value();
//   proxy.drop_connections();          // both sides of every connection closed
//   broker.kill(); broker.start();     // a new port
//   proxy.set_target(broker.port());   // new connections go there
//
// When the target does not accept a connection, the client's connection is closed at once.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/client/io_thread.h"

namespace sluice::testing {

class tcp_proxy {
 public:
  explicit tcp_proxy(std::uint16_t target);  // listens on 127.0.0.1, an ephemeral port
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", for client configs.
  [[nodiscard]] std::string address() const;
  // New connections go to `port`; existing ones are left alone.
  void set_target(std::uint16_t port) { target_ = port; }
  // Closes both sides of every proxied connection, as a network failure would.
  void drop_connections();
  // The next connection accepted passes `bytes` from the broker to the client, then is closed
  // (a network failure in the middle of an answer).
  void cut_next_connection_after(std::size_t bytes) { cut_next_after_ = bytes; }
  // Connections accepted so far (each one a client connection that reached the target).
  [[nodiscard]] std::uint64_t connections() const { return connections_; }

 private:
  struct session;
  boost::asio::awaitable<void> accept_loop();
  // Copies `from` to `to` until either closes, or until `limit` bytes were copied.
  static boost::asio::awaitable<void> pump(std::shared_ptr<session> s,
                                           boost::asio::ip::tcp::socket& from,
                                           boost::asio::ip::tcp::socket& to,
                                           std::size_t limit = SIZE_MAX);
  void close_all();

  io_thread io_{"tcp-proxy"};
  std::atomic<std::uint16_t> target_;
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::size_t> cut_next_after_{SIZE_MAX};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::vector<std::weak_ptr<session>> sessions_;  // io thread only
};

}  // namespace sluice::testing
