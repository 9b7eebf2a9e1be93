#include "broker/topic_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <functional>

#include "broker/errc.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;

struct config_key {
  std::string_view name;
  std::function<std::string(const log_config&)> get;
  std::function<result<void>(log_config&, std::string_view)> set;
};

template <class T>
result<T> parse_number(std::string_view name, std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return make_error(broker_errc::invalid_config,
                      fmt::format("{}: '{}' is not a valid integer", name, text));
  }
  return v;
}

template <class T, class Field>
config_key number_key(std::string_view name, Field field) {
  return {name, [field](const log_config& c) { return fmt::format("{}", c.*field); },
          [name, field](log_config& c, std::string_view text) -> result<void> {
            auto v = parse_number<T>(name, text);
            if (!v) return v.error();
            c.*field = *v;
            return {};
          }};
}

config_key ms_key(std::string_view name, milliseconds log_config::*field) {
  return {name, [field](const log_config& c) { return fmt::format("{}", (c.*field).count()); },
          [name, field](log_config& c, std::string_view text) -> result<void> {
            auto v = parse_number<std::int64_t>(name, text);
            if (!v) return v.error();
            c.*field = milliseconds(*v);
            return {};
          }};
}

const std::vector<config_key>& keys() {
  static const std::vector<config_key> all = {
      ms_key("retention.ms", &log_config::retention_ms),
      number_key<std::int64_t>("retention.bytes", &log_config::retention_bytes),
      number_key<std::uint64_t>("segment.bytes", &log_config::segment_bytes),
      ms_key("segment.ms", &log_config::segment_ms),
      {"flush", [](const log_config& c) { return c.flush.to_string(); },
       [](log_config& c, std::string_view text) -> result<void> {
         auto f = flush_policy::parse(text);
         if (!f) return make_error(broker_errc::invalid_config, f.error().detail);
         c.flush = *f;
         return {};
       }},
      number_key<std::uint32_t>("max.message.bytes", &log_config::max_message_bytes),
      number_key<std::uint32_t>("index.interval.bytes", &log_config::index_interval_bytes),
      number_key<std::uint32_t>("segment.index.bytes", &log_config::index_max_bytes),
      number_key<std::int64_t>("page.cache.keep.bytes", &log_config::page_cache_keep_bytes),
  };
  return all;
}

const config_key* find_key(std::string_view name) {
  for (const auto& k : keys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string_view>& topic_config_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& k : keys()) out.push_back(k.name);
    return out;
  }();
  return names;
}

result<log_config> apply_overrides(const log_config& defaults, const config_overrides& overrides) {
  log_config c = defaults;
  for (const auto& [name, value] : overrides) {
    const auto* key = find_key(name);
    if (key == nullptr) {
      return make_error(broker_errc::invalid_config,
                        fmt::format("unknown topic config '{}'; known: {}", name,
                                    fmt::join(topic_config_names(), ", ")));
    }
    if (auto r = key->set(c, value); !r) return r.error();
  }
  if (auto r = c.validate(); !r) return make_error(broker_errc::invalid_config, r.error().detail);
  return c;
}

std::vector<config_entry> describe_config(const log_config& defaults,
                                          const config_overrides& overrides) {
  auto effective = apply_overrides(defaults, overrides);
  const log_config& c = effective ? *effective : defaults;
  std::vector<config_entry> out;
  for (const auto& k : keys()) {
    out.push_back({std::string(k.name), k.get(c), !overrides.contains(k.name)});
  }
  return out;
}

}  // namespace sluice
