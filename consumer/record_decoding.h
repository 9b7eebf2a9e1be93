#pragma once
// Fetched bytes to consumer records: the whole batches of one partition's fetch answer, CRC
// checked, decompressed, and cut to the records at or after the position the fetch asked from
// (the broker answers with whole batches, so the first may start before it).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "consumer/consumer.h"
#include "protocol/bytes.h"
#include "protocol/result.h"

namespace sluice::consumer_detail {

// The offset after the last whole batch in `bytes`, reading batch headers only; `position` when
// there is none. Lets the next fetch go out before this answer is decoded. Stops at the first
// malformed header (decode_fetched_batches then reports it).
[[nodiscard]] std::int64_t next_fetch_offset(byte_span bytes, std::int64_t position);

// Cuts `bytes` between whole batches into consecutive pieces of at most max_records records
// each by the batch headers' counts (a batch with more is a piece of its own), so that each
// piece decodes into a chunk poll() can hand over whole. What follows the last whole batch (a
// partial batch, or a malformed header decode_fetched_batches reports) stays with the last
// piece; the pieces cover `bytes` exactly, and there is always at least one.
[[nodiscard]] std::vector<byte_span> split_at_batches(byte_span bytes, std::size_t max_records);

struct decode_outcome {
  // Where the partition's position goes once these records are consumed: after the last whole
  // batch, or, on failure, the offset of the batch that failed (never below `position`).
  std::int64_t next_offset = 0;
  std::optional<error> failure;  // what stopped decoding; records before it were appended
};

// Appends to `out` the records of the whole batches in `bytes` with offset >= position, in
// order. The records' views point into `bytes` (bytes_owner keeps them alive: each record holds
// it) or into a compressed batch's decompressed records (which its records then share). Batches
// wholly below position and control batches are skipped without being checked. A trailing partial
// batch is ignored (fetched again later). Failures, each naming the partition and batch offset: a
// malformed batch header, a CRC mismatch (with check_crcs), records that do not decode
// (protocol_errc), bytes without any whole batch.
[[nodiscard]] decode_outcome decode_fetched_batches(byte_span bytes,
                                                    const std::shared_ptr<const void>& bytes_owner,
                                                    const topic_partition& tp,
                                                    std::int64_t position, bool check_crcs,
                                                    std::vector<consumer_record>& out);

// The memory a record refers to, roughly (the record and the bytes its views cover): what
// max_buffered_bytes counts.
[[nodiscard]] std::size_t record_footprint(const consumer_record& r);

}  // namespace sluice::consumer_detail
