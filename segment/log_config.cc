#include "segment/log_config.h"

#include <fmt/format.h>

#include <charconv>

#include "segment/errc.h"

namespace sluice {

result<flush_policy> flush_policy::parse(std::string_view text) {
  if (text == "always") return flush_policy{};
  constexpr std::string_view prefix = "interval:";
  if (text.starts_with(prefix)) {
    std::string_view digits = text.substr(prefix.size());
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
    if (ec == std::errc{} && end == digits.data() + digits.size() && ms >= 1 &&
        ms <= max_interval_ms) {
      return flush_policy{mode::interval, std::chrono::milliseconds(ms)};
    }
  }
  return make_error(log_errc::bad_config,
                    fmt::format("flush must be 'always' or 'interval:<ms>' with ms from 1 to {} "
                                "(100 years), got '{}'",
                                max_interval_ms, text));
}

std::chrono::steady_clock::time_point flush_policy::next_sync_after(
    std::chrono::steady_clock::time_point now) const {
  const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
  return std::chrono::steady_clock::time_point((now.time_since_epoch() / step + 1) * step);
}

std::string flush_policy::to_string() const {
  if (kind == mode::always) return "always";
  return fmt::format("interval:{}", interval.count());
}

result<void> log_config::validate() const {
  auto bad = [](std::string what) { return make_error(log_errc::bad_config, std::move(what)); };
  if (segment_bytes < 1024 || segment_bytes > (1ULL << 31) - 1) {
    return bad(fmt::format("segment.bytes must be in [1024, 2147483647], got {}", segment_bytes));
  }
  if (segment_ms.count() < 1) return bad("segment.ms must be >= 1");
  if (retention_bytes < -1) return bad("retention.bytes must be -1 or >= 0");
  if (retention_ms.count() < -1) return bad("retention.ms must be -1 or >= 0");
  if (index_interval_bytes < 1) return bad("index.interval.bytes must be >= 1");
  if (index_max_bytes < 64) return bad("segment.index.bytes must be >= 64");
  if (max_message_bytes < 61) return bad("max.message.bytes must be >= 61");
  if (page_cache_keep_bytes < -1) return bad("page.cache.keep.bytes must be -1 or >= 0");
  if (checkpoint_interval.count() < 1) return bad("checkpoint interval must be >= 1 ms");
  return {};
}

}  // namespace sluice
