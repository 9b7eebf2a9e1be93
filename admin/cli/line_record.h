#pragma once
// How `sluice produce` turns one input line into a record's key and value.

#include <optional>
#include <string>
#include <string_view>

namespace sluice::cli {

struct line_fields {
  std::optional<std::string> key;
  std::string value;
};

// The line without its trailing "\n" (and a "\r" before it, so files written on Windows give
// the same values).
[[nodiscard]] std::string_view strip_line_end(std::string_view line);

// With an empty separator the whole line is the value and the key is null. Otherwise the key is
// the text before the first separator and the value the text after it; a line without the
// separator has a null key and is all value (as kcat -K does).
[[nodiscard]] line_fields split_line(std::string_view line, std::string_view key_separator);

}  // namespace sluice::cli
