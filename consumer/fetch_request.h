#pragma once
// The Fetch request on the wire: built from the partitions to fetch and their offsets, read back
// per partition. Pure functions: no I/O.

#include <cstdint>
#include <string>
#include <vector>

#include "consumer/consumer.h"
#include "protocol/bytes.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"

namespace sluice::consumer_detail {

struct fetch_target {
  topic_partition tp;
  std::int64_t offset = 0;
};

// One request for every target (targets of one topic adjacent share a FetchTopic), with the
// config's wait, min/max bytes and per-partition max bytes.
[[nodiscard]] request_builder fetch_request(const std::vector<fetch_target>& targets,
                                            const consumer_config& config);

struct fetched_partition {
  topic_partition tp;
  wire::ErrorCode error = wire::ErrorCode::none;
  std::string error_message;
  std::int64_t high_watermark = -1;
  std::int64_t log_start_offset = -1;
  byte_span records;  // whole batches (maybe a partial one at the end); valid with the frame
};

// Every partition of the answer. Fails with protocol_violation or corrupt_message (a records
// range outside the payload).
[[nodiscard]] result<std::vector<fetched_partition>> read_fetch_response(
    const response_frame& frame);

}  // namespace sluice::consumer_detail
