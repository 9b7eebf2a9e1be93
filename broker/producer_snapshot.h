#pragma once
// The idempotent-producer state of a partition as of its log start, kept in
// `<partition dir>/producer-state.snapshot` (schema: ProducerSnapshotFile in broker/metadata.fbs).
//
// On open the producer table is rebuilt from the log's batch headers, but retention deletes
// whole segments, and with them the only record of which batches a producer stored there. A
// producer whose acknowledgements were lost (a broker crash) retries such a batch after the
// restart: without the snapshot the broker knows only the producer's later batches, refuses
// the retry as out of order, and the producer stores the batches again under a new producer id.
// So before retention deletes segments, the broker folds their headers into the snapshot
// (partition::enforce_retention), and the full rebuild starts from it.
//
// Written with replace_file_atomically; read with the flatbuffers Verifier. A missing file is an
// empty state (a partition retention never touched, or from before snapshots existed).

#include <filesystem>
#include <optional>

#include "broker/producer_state.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

inline constexpr const char* producer_snapshot_file_name = "producer-state.snapshot";

struct producer_snapshot {
  offset until{0};  // built from every batch below this offset
  producer_state_table table;
};

// nullopt when the partition has none; corrupt_log (naming the file) when it fails verification.
[[nodiscard]] result<std::optional<producer_snapshot>> read_producer_snapshot(
    const std::filesystem::path& partition_dir);

[[nodiscard]] result<void> write_producer_snapshot(const std::filesystem::path& partition_dir,
                                                   const producer_state_table& table, offset until);

}  // namespace sluice
