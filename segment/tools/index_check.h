#pragma once
// Checks one segment's .index and .timeindex against its batches, for `sluice-log verify`.
// The batches are fed in file order as a scan meets them, so the check is one pass in constant
// memory however large the segment.
//
//  .index      entries ordered (offsets and positions strictly increasing, as
//              offset_index::sanity_check requires); each entry at the start of a batch whose
//              last offset is the entry's offset; none past the last batch.
//  .timeindex  entries ordered (timestamps strictly increasing, offsets non-decreasing, as
//              time_index::sanity_check requires); each entry (T, O) keeps its promise that no
//              record at or before O has a timestamp above T; none past the last offset.
//  both        no all-zero entry followed by non-zero ones.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "protocol/batch_header.h"
#include "protocol/strong_types.h"
#include "segment/tools/index_reader.h"
#include "segment/tools/partition_dir.h"
#include "segment/tools/verify_finding.h"

namespace sluice::log_tool {

class index_checker {
 public:
  // The snapshots must outlive the checker.
  index_checker(const segment_files& files, const offset_index_snapshot& offsets,
                const time_index_snapshot& times)
      : files_(files), offsets_(offsets), times_(times) {}

  // Before the scan: holes and order.
  [[nodiscard]] std::optional<verify_finding> check_order() const;
  // Each whole, valid batch of the segment, in file order.
  [[nodiscard]] std::optional<verify_finding> on_batch(file_pos position, const batch_header& h);
  // After the last batch: entries left over point past the end of the segment.
  [[nodiscard]] std::optional<verify_finding> at_end(file_pos end, offset next) const;

 private:
  [[nodiscard]] std::optional<verify_finding> check_offset_order() const;
  [[nodiscard]] std::optional<verify_finding> check_time_order() const;
  [[nodiscard]] std::optional<verify_finding> offset_entries_at(file_pos position,
                                                                const batch_header& h);
  [[nodiscard]] std::optional<verify_finding> time_entries_in(const batch_header& h);

  const segment_files& files_;
  const offset_index_snapshot& offsets_;
  const time_index_snapshot& times_;
  std::size_t next_offset_entry_ = 0;  // the first .index entry not yet matched with a batch
  std::size_t next_time_entry_ = 0;    // the first .timeindex entry not yet checked
  std::int64_t max_timestamp_ = -1;    // over the batches before the current one
};

}  // namespace sluice::log_tool
