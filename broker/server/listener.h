#pragma once
// Accepts native-protocol connections and spreads them over the shards, round robin. Runs on
// shard 0's io_context; each accepted socket is created on its target shard's io_context, so
// the connection lives there from the first byte.
//
// Limits: at most max_connections are open at once; one more is accepted and closed at once
// (so it does not wait in the backlog), with the refusals logged at most once a second. When
// accept itself fails for want of file descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM)
// the listener backs off before trying again: the pending connection stays in the backlog and
// accepting again at once would spin. The listener also owns the broker-wide in_flight_budget
// every connection draws from.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "broker/server/connection.h"
#include "broker/server/in_flight_budget.h"
#include "protocol/result.h"

namespace sluice {

class shard;
class service;

class listener {
 public:
  listener(std::vector<std::unique_ptr<shard>>& shards, service& svc, connection_limits limits,
           std::size_t max_connections, std::size_t max_in_flight_bytes,
           std::function<bool()> stopping);
  ~listener();

  // Binds and listens; the port is known afterwards (0 picks an ephemeral one).
  [[nodiscard]] result<void> bind(const std::string& host, std::uint16_t port);
  [[nodiscard]] std::uint16_t port() const { return port_; }
  void start_accepting();
  // Stops accepting, then asks every connection to finish its requests and close.
  void stop();
  // Closes the connections still open at once (their requests in flight are dropped).
  void close_remaining();
  // Connections still open (all shards).
  [[nodiscard]] std::size_t live_connections() const { return live_.load(); }

 private:
  void accept_next();
  void on_accept(std::size_t target, boost::system::error_code ec, boost::asio::ip::tcp::socket s);
  void refuse(boost::asio::ip::tcp::socket s);
  void log_refusals(std::chrono::steady_clock::time_point now);

  std::vector<std::unique_ptr<shard>>& shards_;
  service& svc_;
  connection_limits limits_;
  std::size_t max_connections_;
  std::function<bool()> stopping_;
  in_flight_budget budget_;  // before the connections: they refer to it
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;  // after accept failed for want of resources
  std::vector<std::unique_ptr<connection_set>> connections_;  // one per shard
  // Counted at accept, before the connection reaches its shard, so a burst of connects cannot
  // overshoot max_connections; connection_set::remove() counts them down.
  std::atomic<std::size_t> live_{0};
  std::size_t refused_since_log_ = 0;
  std::chrono::steady_clock::time_point refusal_logged_at_{};
  std::size_t next_shard_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace sluice
