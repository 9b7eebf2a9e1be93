#pragma once
// The cleanly closed partition log that fuzz_index_loading corrupts the indexes of: built once,
// deterministically, by appending batches through partition_log and closing it, so its index
// files are exactly what the broker writes. The seed writer uses it for the target's seeds.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "protocol/record_batch.h"
#include "segment/io/backend.h"
#include "segment/log_config.h"

namespace sluice::fuzz {

// Small segments and an index entry per ~128 bytes, so the template has several segments with
// several entries each and every input opens quickly.
log_config closed_log_config();

// Appends the template's batches to a new log in `dir` (must not exist) and closes it cleanly.
void write_closed_log(const std::filesystem::path& dir, io::backend& io,
                      boost::asio::io_context& ctx);

// The index files of the log in `dir` in a fixed order: each segment's .index, then its
// .timeindex. A fuzz input's first byte picks one of them.
std::vector<std::filesystem::path> index_files(const std::filesystem::path& dir);

// Timestamps the template's records span (with a margin on both sides), for lookups.
inline constexpr std::int64_t first_timestamp = 1'000;
inline constexpr std::int64_t last_timestamp = 1'000 + 10 * 64;

}  // namespace sluice::fuzz
