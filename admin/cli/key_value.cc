#include "admin/cli/key_value.h"

#include <fmt/format.h>

#include "protocol/client/client_errc.h"

namespace sluice::cli {

result<key_value> parse_key_value(std::string_view text, std::string_view option) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return make_error(client_errc::invalid_argument,
                      fmt::format("{} '{}': expected NAME=VALUE", option, text));
  }
  return key_value{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

result<std::map<std::string, std::string>> parse_config_map(const std::vector<std::string>& texts,
                                                            std::string_view option) {
  std::map<std::string, std::string> out;
  for (const auto& text : texts) {
    auto kv = parse_key_value(text, option);
    if (!kv) return kv.error();
    if (!out.emplace(kv->key, kv->value).second) {
      return make_error(client_errc::invalid_argument,
                        fmt::format("{} {} given twice", option, kv->key));
    }
  }
  return out;
}

}  // namespace sluice::cli
