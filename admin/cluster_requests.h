#pragma once
// Cluster metadata and partition offsets on the wire: build the request, read the response into
// the admin API's types (admin/admin.h). Pure functions: no I/O.

#include <cstdint>
#include <optional>
#include <string>

#include "admin/admin.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"

namespace sluice::admin_detail {

// Metadata for every topic.
[[nodiscard]] request_builder metadata_request();
// Brokers, controller and topics; a topic the broker reports with an error fails the call.
[[nodiscard]] result<cluster_description> read_metadata(const response_frame& frame);

[[nodiscard]] request_builder list_offsets_request(const std::string& topic, std::int32_t partition,
                                                   std::int64_t spec);
// The offset for topic/partition; nullopt when the broker says no record is that late (-1).
[[nodiscard]] result<std::optional<std::int64_t>> read_list_offsets(const response_frame& frame,
                                                                    const std::string& topic,
                                                                    std::int32_t partition);

}  // namespace sluice::admin_detail
