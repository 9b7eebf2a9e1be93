#pragma once
// The Produce request for a set of sealed batches (at most one per partition), and the outcome
// of each batch in the broker's answer.

#include <chrono>
#include <cstdint>
#include <span>
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

struct produce_ack {
  std::int64_t base_offset = -1;
  bool duplicate = false;  // the broker already had this batch: base_offset is the original
};

// The outcome of each batch, in the order of `batches`: its ack, the broker's error for its
// partition (with the broker's message), or protocol_violation when the answer lacks it.
[[nodiscard]] std::vector<result<produce_ack>> match_produce_response(
    const response_frame& frame, std::span<const batch_ptr> batches);

}  // namespace sluice::producer_internal
