#include "admin/admin_channel.h"

#include <cstdlib>
#include <future>

#include "protocol/client/client_errc.h"

namespace sluice::admin_detail {

admin_channel::admin_channel(std::vector<broker_address> bootstrap, client_connection::options opts)
    : io_("sluice-admin"),
      pool_(std::make_shared<broker_pool>(io_.executor(), std::move(bootstrap), std::move(opts))) {}

admin_channel::~admin_channel() {
  io_.call([this] { pool_->close(); });
  io_.stop();
}

bool admin_channel::is_connection_lost(const error& e) {
  return e.code == make_error_code(client_errc::connection_lost);
}

result<response_frame> admin_channel::round_trip(request_builder req,
                                                 std::chrono::milliseconds extra_time) {
  // The promise lives on this stack frame until the handler has set it: call() waits for it.
  std::promise<result<response_frame>> done;
  auto answer = done.get_future();
  io_.post([this, req = std::move(req), &done, extra_time]() mutable {
    pool_->send(
        std::move(req), [&done](result<response_frame> r) { done.set_value(std::move(r)); },
        extra_time);
  });
  return answer.get();
}

}  // namespace sluice::admin_detail
