#pragma once
// wire::ErrorCode (sluice.fbs) as a boost::system error code in the category "sluice.wire", so
// errors a broker sends arrive in client code as ordinary sluice::error values:
//   result<...> r = ...;  if (r.error().code == wire::ErrorCode::unknown_topic) ...
// The broker maps its internal codes to these in one function (broker/wire_error_mapping.h).

#include <boost/system/error_code.hpp>
#include <string>
#include <type_traits>

#include "protocol/result.h"
#include "protocol/sluice_generated.h"

namespace sluice::wire {

[[nodiscard]] const boost::system::error_category& wire_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(ErrorCode e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

// Whether a client may retry the same request later and expect it to work (the condition is
// temporary): not_enough_space, request_timed_out, broker_shutting_down, not_leader,
// storage_error is not (the partition stays offline until an operator acts).
[[nodiscard]] bool is_retriable(ErrorCode e) noexcept;

// The error a client sees for a code and message from a response; none -> success.
[[nodiscard]] result<void> to_result(ErrorCode code, const flatbuffers::String* message);

}  // namespace sluice::wire

template <>
struct boost::system::is_error_code_enum<sluice::wire::ErrorCode> : std::true_type {};
