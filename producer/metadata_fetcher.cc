#include "producer/metadata_fetcher.h"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>

#include "producer/delivery_errors.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::producer_internal {

result<std::int32_t> partition_count_from(const response_frame& frame, const std::string& topic) {
  const auto* body = frame.body<wire::MetadataResponse>();
  if (body != nullptr && body->topics() != nullptr) {
    for (const auto* t : *body->topics()) {
      if (t->name() == nullptr || t->name()->string_view() != topic) continue;
      if (auto e = wire::to_result(t->error(), t->error_message()); !e) return e.error();
      const auto n = t->partitions() != nullptr ? t->partitions()->size() : 0U;
      if (n == 0) break;
      return static_cast<std::int32_t>(n);
    }
  }
  return make_error(client_errc::protocol_violation,
                    fmt::format("the Metadata response has no partitions for topic '{}'", topic));
}

metadata_fetcher::metadata_fetcher(boost::asio::any_io_executor ex,
                                   std::shared_ptr<broker_pool> pool, topic_metadata& cache,
                                   std::chrono::milliseconds retry_backoff)
    : ex_(std::move(ex)), pool_(std::move(pool)), cache_(cache), retry_backoff_(retry_backoff) {}

void metadata_fetcher::fetch(const std::string& topic) {
  if (closed_) return;
  request_builder req;
  auto& fbb = req.fbb();
  const auto name = fbb.CreateString(topic);
  req.set_body(wire::CreateMetadataRequest(fbb, fbb.CreateVector(&name, 1)));
  pool_->send(std::move(req), [self = shared_from_this(), topic](result<response_frame> r) {
    self->on_answer(topic, std::move(r));
  });
}

void metadata_fetcher::on_answer(const std::string& topic, result<response_frame> r) {
  if (closed_) return;
  result<std::int32_t> count =
      r ? partition_count_from(*r, topic) : result<std::int32_t>(r.error());
  if (count) {
    cache_.set(topic, *count);
    return;
  }
  if (!is_retriable(count.error())) {
    cache_.set_error(topic, count.error());
    return;
  }
  if (!cache_.note_retriable_error(topic, count.error())) return;
  auto timer = std::make_shared<boost::asio::steady_timer>(ex_, retry_backoff_);
  timer->async_wait([self = shared_from_this(), timer, topic](boost::system::error_code ec) {
    if (!ec) self->fetch(topic);
  });
}

}  // namespace sluice::producer_internal
