#pragma once
// Expected failures of the broker's service core (category "sluice.broker"). Storage failures
// keep their own codes (log_errc, protocol_errc, errno); broker/wire_error_mapping.h turns all
// of them into wire::ErrorCode in one place.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace sluice {

enum class broker_errc {
  unknown_topic = 1,
  unknown_partition,
  topic_already_exists,
  invalid_topic_name,
  invalid_partition_count,
  invalid_config,          // unknown config name or a value that does not parse or fit
  out_of_order_sequence,   // an idempotent batch's sequence is not the next expected
  invalid_producer_epoch,  // an older epoch of a producer id (fenced)
  shutting_down,
  not_enough_space,   // free space below the floor
  invalid_request,    // e.g. acks other than 0, 1, -1
  request_timed_out,  // a produce was not acknowledged within its timeout
  partition_opening,  // the topic is being created and this partition is not open yet
};

[[nodiscard]] const boost::system::error_category& broker_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(broker_errc e) noexcept {
  return {static_cast<int>(e), broker_category()};
}

}  // namespace sluice

template <>
struct boost::system::is_error_code_enum<sluice::broker_errc> : std::true_type {};
