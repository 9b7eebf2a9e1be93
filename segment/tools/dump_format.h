#pragma once
// The lines `sluice-log dump` prints, as text (one `key=value` line per item) or as JSON Lines
// (one object per item, its kind in "type"). Each function returns one line without the newline.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/record.h"
#include "protocol/record_batch_format.h"
#include "protocol/result.h"
#include "segment/checkpoint.h"
#include "segment/tools/batch_scanner.h"
#include "segment/tools/index_reader.h"
#include "segment/tools/partition_dir.h"

namespace sluice::log_tool {

enum class output_format { text, json };

// "none", "gzip", "snappy", "lz4", "zstd", or "unknown(<n>)" for codecs 5..7.
[[nodiscard]] std::string codec_name(compression codec);

// The checkpoint file's facts; `cp` nullopt: there is none.
[[nodiscard]] std::string format_checkpoint(const std::optional<partition_checkpoint>& cp,
                                            output_format format);
// A checkpoint file that exists but cannot be read or parsed.
[[nodiscard]] std::string format_bad_checkpoint(const error& e, output_format format);

// What the tool found about one segment's files before walking its batches.
struct segment_overview {
  const segment_files& files;
  std::uint64_t log_bytes;
  const result<offset_index_snapshot>& index;
  const result<time_index_snapshot>& timeindex;
};
[[nodiscard]] std::string format_segment(const segment_overview& seg, output_format format);

// Every header field, where the batch is, and whether its CRC matches.
[[nodiscard]] std::string format_batch(const batch_at& batch, output_format format);
[[nodiscard]] std::string format_record(const record_view& record, output_format format);
// A batch whose records could not be decoded (unsupported codec, corrupt records).
[[nodiscard]] std::string format_undecodable(const batch_at& batch, const error& e,
                                             output_format format);
// Where a walk over a .log file stopped before its end, and why.
[[nodiscard]] std::string format_problem(const std::filesystem::path& file, file_pos position,
                                         std::string_view what, output_format format);
// Where a walk stopped at bytes that are not damage but what recovery will cut (a crashed or
// open log's unfinished tail, a recycled file's old bytes: unrecovered_tail.h).
[[nodiscard]] std::string format_cut_by_recovery(const std::filesystem::path& file,
                                                 file_pos position, std::string_view what,
                                                 output_format format);

}  // namespace sluice::log_tool
