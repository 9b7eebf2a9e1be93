#include "broker/wire_error_mapping.h"

#include <cerrno>

#include "broker/errc.h"
#include "protocol/errc.h"
#include "protocol/wire_errc.h"
#include "segment/errc.h"

namespace sluice {
namespace {

using wire::ErrorCode;

ErrorCode from_broker(broker_errc e) {
  switch (e) {
    case broker_errc::unknown_topic:
      return ErrorCode::unknown_topic;
    case broker_errc::unknown_partition:
      return ErrorCode::unknown_partition;
    case broker_errc::topic_already_exists:
      return ErrorCode::topic_already_exists;
    case broker_errc::invalid_topic_name:
      return ErrorCode::invalid_topic_name;
    case broker_errc::invalid_partition_count:
      return ErrorCode::invalid_partition_count;
    case broker_errc::invalid_config:
      return ErrorCode::invalid_config;
    case broker_errc::out_of_order_sequence:
      return ErrorCode::out_of_order_sequence;
    case broker_errc::invalid_producer_epoch:
      return ErrorCode::invalid_producer_epoch;
    case broker_errc::shutting_down:
      return ErrorCode::broker_shutting_down;
    case broker_errc::not_enough_space:
      return ErrorCode::not_enough_space;
    case broker_errc::invalid_request:
      return ErrorCode::invalid_request;
    case broker_errc::request_timed_out:
      return ErrorCode::request_timed_out;
    // Kafka's LEADER_NOT_AVAILABLE: clients retry, as for a leader moving.
    case broker_errc::partition_opening:
      return ErrorCode::not_leader;
  }
  return ErrorCode::unknown_server_error;
}

ErrorCode from_log(log_errc e) {
  switch (e) {
    case log_errc::offset_out_of_range:
      return ErrorCode::offset_out_of_range;
    case log_errc::batch_too_large:
      return ErrorCode::message_too_large;
    case log_errc::log_offline:
    case log_errc::corrupt_log:
    case log_errc::rolling_back:  // the detail names the write error being cut away
      return ErrorCode::storage_error;
    case log_errc::log_closed:
      return ErrorCode::broker_shutting_down;
    case log_errc::busy:
    case log_errc::bad_config:
      return ErrorCode::unknown_server_error;
  }
  return ErrorCode::unknown_server_error;
}

ErrorCode from_protocol(protocol_errc e) {
  switch (e) {
    case protocol_errc::batch_too_large:
      return ErrorCode::message_too_large;
    case protocol_errc::unsupported_compression:
      return ErrorCode::unsupported_compression;
    default:
      return ErrorCode::corrupt_batch;
  }
}

ErrorCode from_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return ErrorCode::not_enough_space;
    default:
      return ErrorCode::storage_error;
  }
}

}  // namespace

wire::ErrorCode to_wire_error(const error& e) {
  const auto& cat = e.code.category();
  const int v = e.code.value();
  if (cat == broker_category()) return from_broker(static_cast<broker_errc>(v));
  if (cat == log_category()) return from_log(static_cast<log_errc>(v));
  if (cat == protocol_category()) return from_protocol(static_cast<protocol_errc>(v));
  if (cat == wire::wire_category()) return static_cast<ErrorCode>(v);
  if (cat == boost::system::system_category() || cat == boost::system::generic_category()) {
    return from_errno(v);
  }
  return ErrorCode::unknown_server_error;
}

}  // namespace sluice
