#pragma once
// Lets a shard-owned object post work that captures `this` although the object may be destroyed
// before the work runs: the object holds an alive_token, and work posted with post_while_alive()
// is dropped uncalled if the token is gone when the io_context gets to it.
//
// Threading: the token is created and destroyed on the io_context's thread, and the check runs
// there too; post_while_alive() itself may be called from any thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <utility>

namespace sluice::io {

class alive_token {
 public:
  [[nodiscard]] std::weak_ptr<void> watch() const { return alive_; }

 private:
  std::shared_ptr<void> alive_ = std::make_shared<char>();
};

template <class Fn>
void post_while_alive(boost::asio::io_context& ctx, std::weak_ptr<void> owner, Fn fn) {
  boost::asio::post(ctx, [owner = std::move(owner), fn = std::move(fn)]() mutable {
    if (!owner.expired()) fn();
  });
}

}  // namespace sluice::io
