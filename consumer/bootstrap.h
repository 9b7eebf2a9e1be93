#pragma once
// Where a consumer finds the cluster.

#include <string>
#include <vector>

#include "protocol/client/broker_address.h"
#include "protocol/result.h"

namespace sluice::consumer_detail {

// `configured` when not empty, else the SLUICE_BROKERS environment variable, else
// 127.0.0.1:9190. Fails as parse_broker_list does.
[[nodiscard]] result<std::vector<broker_address>> bootstrap_brokers(const std::string& configured);

}  // namespace sluice::consumer_detail
