#pragma once
// The one function that turns any internal error (broker_errc, log_errc, protocol_errc, errno,
// client-visible wire codes) into the wire::ErrorCode a client receives. The message that
// travels with it is the error's detail, which says what exactly was wrong.

#include "protocol/result.h"
#include "protocol/sluice_generated.h"

namespace sluice {

[[nodiscard]] wire::ErrorCode to_wire_error(const error& e);

}  // namespace sluice
