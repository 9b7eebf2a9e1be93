#pragma once
// How the tool shows bytes it did not write: keys, values and header values of records.

#include <optional>
#include <string>
#include <string_view>

#include "protocol/bytes.h"

namespace sluice::log_tool {

// Valid UTF-8 with no control characters (tab excepted): safe to print as it is.
[[nodiscard]] bool is_printable_text(byte_span bytes);

// Lower-case hex, two digits a byte, no prefix.
[[nodiscard]] std::string to_hex(byte_span bytes);

// For text output: `null`, printable text in double quotes (only `"` and `\` escaped), anything
// else as 0x-prefixed hex.
[[nodiscard]] std::string display_bytes(const std::optional<byte_span>& bytes);

// A JSON string literal, quotes included.
[[nodiscard]] std::string json_string(std::string_view text);

// A JSON member for bytes: `"name":null`, `"name":"<text>"` when they are valid UTF-8, else
// `"name_hex":"<hex>"`.
[[nodiscard]] std::string json_bytes_member(std::string_view name,
                                            const std::optional<byte_span>& bytes);

}  // namespace sluice::log_tool
