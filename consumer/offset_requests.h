#pragma once
// ListOffsets and Metadata for a consumer: where partitions begin and end, which offset a
// timestamp falls on, how many partitions a topic has. Pure functions: no I/O.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "consumer/consumer.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"

namespace sluice::consumer_detail {

inline constexpr std::int64_t earliest_spec = -2;
inline constexpr std::int64_t latest_spec = -1;

// spec: earliest_spec, latest_spec, or a timestamp (ms); the same for every partition.
[[nodiscard]] request_builder list_offsets_request(const std::vector<topic_partition>& tps,
                                                   std::int64_t spec);
// Per asked partition: its offset (-1 when no record is as late as a timestamp spec; with
// `end_when_none_that_late`, the log end the broker saw in the same lookup instead, if it says)
// or the broker's error naming the partition. Fails as a whole (protocol_violation) when an
// asked partition is missing from the answer.
[[nodiscard]] result<std::map<topic_partition, result<std::int64_t>>> read_list_offsets(
    const response_frame& frame, const std::vector<topic_partition>& asked,
    bool end_when_none_that_late = false);

[[nodiscard]] request_builder metadata_request(const std::vector<std::string>& topics);
// Partition count per asked topic. Fails with the broker's error for a topic (unknown_topic),
// and with unknown_topic for a topic the answer leaves out.
[[nodiscard]] result<std::map<std::string, std::int32_t>> read_partition_counts(
    const response_frame& frame, const std::vector<std::string>& asked);

}  // namespace sluice::consumer_detail
