#pragma once
// Times as users write them for `sluice consume --from-time`: milliseconds since the epoch, or
// ISO-8601 ("2024-05-01", "2024-05-01T12:30", "2024-05-01T12:30:00.250Z",
// "2024-05-01T12:30:00+02:00"). A time without an offset is UTC, so a script gives the same
// answer on every machine. Fractional seconds may have any number of digits and a comma for
// the point (`date -Ins`: "2024-05-01T12:30:00,123456789+00:00"); they are cut to milliseconds.

#include <cstdint>
#include <string_view>

#include "protocol/result.h"

namespace sluice::cli {

// Milliseconds since the Unix epoch; fails (client_errc::invalid_argument) quoting the text.
[[nodiscard]] result<std::int64_t> parse_timestamp_ms(std::string_view text);

}  // namespace sluice::cli
