#include "broker/server/listener.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "broker/shard.h"

namespace sluice {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto accept_backoff = std::chrono::milliseconds(100);

// accept() failures that mean "no resources now", not "this one connection went wrong".
bool out_of_resources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory ||
         ec == boost::system::error_code(ENFILE, boost::system::system_category());
}

}  // namespace

listener::listener(std::vector<std::unique_ptr<shard>>& shards, service& svc,
                   connection_limits limits, std::size_t max_connections,
                   std::size_t max_in_flight_bytes, std::function<bool()> stopping)
    : shards_(shards),
      svc_(svc),
      limits_(limits),
      max_connections_(max_connections),
      stopping_(std::move(stopping)),
      budget_(max_in_flight_bytes),
      acceptor_(shards.front()->context()),
      backoff_(shards.front()->context()) {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    connections_.push_back(std::make_unique<connection_set>(live_));
  }
}

listener::~listener() = default;

result<void> listener::bind(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return error{ec, fmt::format("--host '{}' is not an IP address", host)};
  tcp::endpoint ep(address, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return error{ec, fmt::format("listen on {}:{}: {}", host, port, ec.message())};
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void listener::start_accepting() {
  asio::post(acceptor_.get_executor(), [this] { accept_next(); });
}

void listener::accept_next() {
  const std::size_t target = next_shard_++ % shards_.size();
  acceptor_.async_accept(shards_[target]->context(),
                         [this, target](boost::system::error_code ec, tcp::socket s) {
                           on_accept(target, ec, std::move(s));
                         });
}

void listener::on_accept(std::size_t target, boost::system::error_code ec, tcp::socket s) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec && out_of_resources(ec)) {
    spdlog::warn("accept failed: {}; retrying in {} ms (raise the open-files limit?)", ec.message(),
                 accept_backoff.count());
    backoff_.expires_after(accept_backoff);
    backoff_.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) accept_next();
    });
    return;
  }
  if (ec) {
    spdlog::warn("accept failed: {}", ec.message());
  } else if (live_.load() >= max_connections_) {
    refuse(std::move(s));
  } else {
    ++live_;
    asio::post(shards_[target]->context(), [this, target, s = std::move(s)]() mutable {
      if (stopping_()) {  // accepted just before the listener stopped
        --live_;
        return;
      }
      auto c = std::make_shared<connection>(std::move(s), svc_, limits_, budget_,
                                            *connections_[target], stopping_);
      connections_[target]->add(c);
      c->start();
    });
  }
  accept_next();
}

void listener::refuse(tcp::socket s) {
  ++refused_since_log_;
  const auto now = std::chrono::steady_clock::now();
  if (now - refusal_logged_at_ >= std::chrono::seconds(1)) log_refusals(now);
  boost::system::error_code ec;
  s.close(ec);  // after the log line: whoever sees the close can find the reason
}

void listener::log_refusals(std::chrono::steady_clock::time_point now) {
  spdlog::warn(
      "refused {} connection(s) since the last message: {} connections open (--max-connections)",
      refused_since_log_, live_.load());
  refused_since_log_ = 0;
  refusal_logged_at_ = now;
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    backoff_.cancel();
  });
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    asio::post(shards_[i]->context(), [this, i] { connections_[i]->shut_down_all(); });
  }
}

void listener::close_remaining() {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    asio::post(shards_[i]->context(), [this, i] {
      connections_[i]->close_all("broker shutting down: shutdown timeout reached");
    });
  }
}

}  // namespace sluice
