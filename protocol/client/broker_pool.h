#pragma once
// The connections a client library keeps to the cluster. Today that is one connection to the
// first reachable broker of the bootstrap list (a single broker serves every partition); with
// replication it becomes one connection per broker id, learned from Metadata.
//
// Threading: lives on the client's io thread (io_thread.h); every method is called there and
// handlers run there.

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "protocol/client/broker_address.h"
#include "protocol/client/client_connection.h"
#include "protocol/result.h"

namespace sluice {

class broker_pool : public std::enable_shared_from_this<broker_pool> {
 public:
  using connection_ptr = std::shared_ptr<client_connection>;
  using connection_handler = std::function<void(result<connection_ptr>)>;

  broker_pool(boost::asio::any_io_executor ex, std::vector<broker_address> bootstrap,
              client_connection::options opts);

  // A live connection: the current one, or a new one (each bootstrap address tried in turn,
  // starting after the one that failed last). Callers that ask while a connect is under way wait
  // for it. Fails with the last address's error when none is reachable.
  void async_connection(connection_handler handler);

  // Sends a request on a live connection (connecting first if needed); client_connection::send.
  void send(request_builder req, client_connection::response_handler handler,
            std::chrono::milliseconds extra_timeout = std::chrono::milliseconds{0},
            client_connection::header_handler on_header = nullptr);

  // Closes the connection; callers still waiting for one, and later calls, fail with
  // client_closed.
  void close();

  // Called with each connection the pool makes, once its handshake is done and before the
  // callers waiting for it have it: how a client learns what the broker said in ApiVersions
  // (say, its request size limit) before it plans a request.
  using connected_observer = std::function<void(const client_connection&)>;
  void on_connected(connected_observer observer) { on_connected_ = std::move(observer); }

  [[nodiscard]] const client_connection::options& options() const { return opts_; }
  [[nodiscard]] const std::vector<broker_address>& bootstrap() const { return bootstrap_; }

 private:
  void connect_next(std::size_t attempts_left);
  void finish_connecting(const result<connection_ptr>& r);

  boost::asio::any_io_executor ex_;
  std::vector<broker_address> bootstrap_;
  client_connection::options opts_;
  connection_ptr current_;
  std::weak_ptr<client_connection> being_made_;  // while connecting_
  std::vector<connection_handler> waiting_;
  connected_observer on_connected_;
  std::size_t next_address_ = 0;
  bool connecting_ = false;
  bool closed_ = false;
};

}  // namespace sluice
