#include "broker/errc.h"

#include <string>

namespace sluice {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class broker_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.broker"; }

  std::string message(int ev) const override {
    switch (static_cast<broker_errc>(ev)) {
      case broker_errc::unknown_topic:
        return "unknown topic";
      case broker_errc::unknown_partition:
        return "unknown partition";
      case broker_errc::topic_already_exists:
        return "topic already exists";
      case broker_errc::invalid_topic_name:
        return "invalid topic name";
      case broker_errc::invalid_partition_count:
        return "invalid partition count";
      case broker_errc::invalid_config:
        return "invalid config";
      case broker_errc::out_of_order_sequence:
        return "out of order sequence number";
      case broker_errc::invalid_producer_epoch:
        return "producer fenced by a newer epoch";
      case broker_errc::shutting_down:
        return "broker shutting down";
      case broker_errc::not_enough_space:
        return "not enough space";
      case broker_errc::invalid_request:
        return "invalid request";
      case broker_errc::request_timed_out:
        return "request timed out";
      case broker_errc::partition_opening:
        return "partition not open yet";
    }
    return "unknown broker error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& broker_category() noexcept {
  static const broker_category_impl category;
  return category;
}

}  // namespace sluice
