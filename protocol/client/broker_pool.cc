#include "protocol/client/broker_pool.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "protocol/client/client_errc.h"

namespace sluice {

broker_pool::broker_pool(boost::asio::any_io_executor ex, std::vector<broker_address> bootstrap,
                         client_connection::options opts)
    : ex_(std::move(ex)), bootstrap_(std::move(bootstrap)), opts_(std::move(opts)) {
  SLUICE_ASSERT(!bootstrap_.empty());
}

void broker_pool::async_connection(connection_handler handler) {
  if (closed_) {
    boost::asio::post(ex_, [h = std::move(handler)] {
      h(make_error(client_errc::client_closed, "client closed"));
    });
    return;
  }
  if (current_ && current_->is_open()) {
    boost::asio::post(ex_, [h = std::move(handler), c = current_] { h(c); });
    return;
  }
  waiting_.push_back(std::move(handler));
  if (!connecting_) {
    connecting_ = true;
    current_.reset();
    connect_next(bootstrap_.size());
  }
}

void broker_pool::connect_next(std::size_t attempts_left) {
  const auto& addr = bootstrap_[next_address_ % bootstrap_.size()];
  being_made_ = client_connection::async_connect(
      ex_, addr, opts_, [self = shared_from_this(), attempts_left](result<connection_ptr> r) {
        if (!r && attempts_left > 1 && !self->closed_) {
          ++self->next_address_;
          self->connect_next(attempts_left - 1);
          return;
        }
        self->finish_connecting(r);
      });
}

void broker_pool::finish_connecting(const result<connection_ptr>& r) {
  connecting_ = false;
  being_made_.reset();
  if (r && closed_) (*r)->close();
  if (r && !closed_) {
    current_ = *r;
    if (on_connected_) on_connected_(*current_);
  }
  auto waiters = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiters) {
    if (closed_) {
      w(make_error(client_errc::client_closed, "client closed"));
    } else {
      w(r);
    }
  }
}

void broker_pool::send(request_builder req, client_connection::response_handler handler,
                       std::chrono::milliseconds extra_timeout,
                       client_connection::header_handler on_header) {
  auto shared_req = std::make_shared<request_builder>(std::move(req));
  async_connection([shared_req, handler = std::move(handler), extra_timeout,
                    on_header = std::move(on_header)](result<connection_ptr> c) mutable {
    if (!c) {
      handler(c.error());
      return;
    }
    (*c)->send(std::move(*shared_req), std::move(handler), extra_timeout, std::move(on_header));
  });
}

void broker_pool::close() {
  closed_ = true;
  if (current_) current_->close();
  current_.reset();
  // Callers waiting for a connect under way are answered now, not when it ends: it may never end
  // (its io thread stops next), and their handlers often hold the owner of this pool.
  for (auto& w : std::exchange(waiting_, {})) {
    boost::asio::post(
        ex_, [h = std::move(w)] { h(make_error(client_errc::client_closed, "client closed")); });
  }
  // A connect under way would otherwise keep its socket open until its handshake times out.
  // Closed once the waiters are taken: its handler, which may run from here, answers none.
  if (auto c = being_made_.lock()) c->close();
}

}  // namespace sluice
