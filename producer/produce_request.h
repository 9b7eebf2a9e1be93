#pragma once
// The Produce request for a set of sealed batches (at most one per partition), and the outcome
// of each batch in the broker's answer.

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "producer/producer_batch.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"

namespace sluice::producer_internal {

// A ProduceRequest carrying the batches' bytes as payload (shared, not copied).
// REQUIRES: every batch sealed; no two batches of one partition.
[[nodiscard]] request_builder build_produce_request(std::span<const batch_ptr> batches,
                                                    std::int8_t acks,
                                                    std::chrono::milliseconds timeout);

// The bytes of the frame a connection sends for build_produce_request(batches, acks, timeout)
// under client_id: what a broker's request size limit (--max-request-bytes) applies to.
[[nodiscard]] std::size_t produce_frame_size(std::span<const batch_ptr> batches, std::int8_t acks,
                                             std::chrono::milliseconds timeout,
                                             std::string_view client_id);

// At least produce_frame_size(batches, acks, timeout, client_id) for any acks and timeout,
// added up without building the request: a request whose bound is within the broker's limit
// needs no exact size.
[[nodiscard]] std::size_t produce_frame_size_bound(std::span<const batch_ptr> batches,
                                                   std::string_view client_id);

struct produce_ack {
  std::int64_t base_offset = -1;
  bool duplicate = false;  // the broker already had this batch: base_offset is the original
};

// The outcome of each batch, in the order of `batches`: its ack, the broker's error for its
// partition (with the broker's message), or protocol_violation when the answer lacks it.
[[nodiscard]] std::vector<result<produce_ack>> match_produce_response(
    const response_frame& frame, std::span<const batch_ptr> batches);

}  // namespace sluice::producer_internal
