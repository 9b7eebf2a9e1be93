#pragma once
// Topic administration on the wire: for each request, the function that builds it and the one
// that reads its response into the admin API's types (admin/admin.h). Pure functions: no I/O.

#include <map>
#include <string>
#include <vector>

#include "admin/admin.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"

namespace sluice::admin_detail {

[[nodiscard]] request_builder create_topics_request(const topic_spec& spec, bool validate_only);
// The broker's verdict on `name`: topic_already_exists, invalid_topic_name,
// invalid_partition_count, invalid_config, ... with the broker's message.
[[nodiscard]] result<void> read_create_topics(const response_frame& frame, const std::string& name);

[[nodiscard]] request_builder delete_topics_request(const std::string& name);
[[nodiscard]] result<void> read_delete_topics(const response_frame& frame, const std::string& name);

// Empty names: every topic.
[[nodiscard]] request_builder describe_topics_request(const std::vector<std::string>& names);
// Every description, in the broker's order; fails with the first topic-level error (e.g.
// unknown_topic). A partition-level error is not a failure: it is the partition's `problem`.
[[nodiscard]] result<std::vector<topic_description>> read_describe_topics(
    const response_frame& frame);

[[nodiscard]] request_builder alter_configs_request(const std::string& name,
                                                    const std::map<std::string, std::string>& set,
                                                    const std::vector<std::string>& reset,
                                                    bool validate_only);
[[nodiscard]] result<void> read_alter_configs(const response_frame& frame, const std::string& name);

}  // namespace sluice::admin_detail
