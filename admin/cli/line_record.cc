#include "admin/cli/line_record.h"

namespace sluice::cli {

std::string_view strip_line_end(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

line_fields split_line(std::string_view line, std::string_view key_separator) {
  if (key_separator.empty()) return {std::nullopt, std::string(line)};
  const auto at = line.find(key_separator);
  if (at == std::string_view::npos) return {std::nullopt, std::string(line)};
  return {std::string(line.substr(0, at)), std::string(line.substr(at + key_separator.size()))};
}

}  // namespace sluice::cli
