#pragma once
// Which failures the producer retries. Retriable: whatever can go away by itself — the network
// (refused, reset, lost connections; errno/Asio/resolver codes), client timeouts, no broker
// reachable, and the broker errors wire::is_retriable() names (not_enough_space,
// request_timed_out, broker_shutting_down, not_leader). Everything else fails the batch with the
// error as it came, the broker's message included.

#include <cstddef>
#include <optional>

#include "protocol/result.h"
#include "protocol/sluice_generated.h"

namespace sluice::producer_internal {

[[nodiscard]] bool is_retriable(const error& e);
// Whether the broker's answer proves the batch was not stored: a refusal before it was written.
// Not so for storage_error (a written batch whose fdatasync failed may be in the log after a
// restart), unknown_server_error and request_timed_out, nor for anything but a broker's answer.
[[nodiscard]] bool proves_not_stored(const error& e);
// Whether e is the broker's error `code`.
[[nodiscard]] bool is_wire_error(const error& e, wire::ErrorCode code);
// The broker's largest request frame (its --max-request-bytes), when e reports that the broker
// refused a frame above it. The connection reports such a refusal (request id 0) as
// connection_lost for every request in flight, whose fates it cannot tell apart, so the
// broker's reason survives only in the detail: "frame of N bytes exceeds the limit of M bytes",
// as protocol/frame.cc words it.
[[nodiscard]] std::optional<std::size_t> refused_frame_limit(const error& e);

}  // namespace sluice::producer_internal
