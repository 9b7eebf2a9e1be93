#pragma once
// What `sluice topic describe` prints: per topic a header line, its configs (defaults marked)
// and a table of partitions; or, with --json, one JSON object per topic per line.

#include <cstdint>
#include <string>
#include <vector>

#include "admin/admin.h"

namespace sluice::cli {

// "512 B", "1.5 KiB", "12.3 MiB", ... (powers of 1024).
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

// Rows of cells as columns aligned on the widest cell, two spaces apart, each line indented
// by `indent` and ended by "\n"; trailing spaces trimmed.
[[nodiscard]] std::string format_table(const std::vector<std::vector<std::string>>& rows,
                                       std::string_view indent);

[[nodiscard]] std::string format_description_text(const topic_description& t);
[[nodiscard]] std::string format_description_json(const topic_description& t);

}  // namespace sluice::cli
