#pragma once
// "name=value" arguments (--config, --header): the name is what precedes the first '=', the
// value everything after it, so values may themselves contain '='.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/result.h"

namespace sluice::cli {

struct key_value {
  std::string key;
  std::string value;
};

// Fails (client_errc::invalid_argument) when there is no '=' or the name is empty; the detail
// quotes the argument and names the option (e.g. "--config").
[[nodiscard]] result<key_value> parse_key_value(std::string_view text, std::string_view option);

// All of `texts` as a map; a name given twice is an error (which value would win is unclear).
[[nodiscard]] result<std::map<std::string, std::string>> parse_config_map(
    const std::vector<std::string>& texts, std::string_view option);

}  // namespace sluice::cli
