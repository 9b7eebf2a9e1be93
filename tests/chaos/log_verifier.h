#pragma once
// The end of a chaos run: a consumer reads every partition of the chaos topics from its log
// start offset to its high watermark, and the log is compared with the acknowledgements.
//
//   lost        an acknowledged record that is not at its acknowledged (partition, offset): the
//               offset is missing, or another record is there. Acknowledged offsets below the
//               log start offset of a topic with retention (`retention` below) were deleted by
//               retention: counted as `expired` (stderr), not lost.
//   duplicated  a record (key) stored at more than one offset: the harness never resends a
//               record, so each copy beyond the first is a retry the idempotent producer's
//               promise should have kept out.
//   corrupted   a record whose bytes differ from what was sent (key, value: checked against
//               value_of(), and against the hash in the acknowledgement), a record the consumer
//               could not decode (CRC, format), an offset missing inside [log start, high
//               watermark) (a hole), or a record stored before an earlier record of the same
//               producer and partition (order).
//
// Records that were sent but never acknowledged may be present (at most once) or absent.

#include <cstdint>
#include <string>
#include <vector>

#include "tests/chaos/producer_fleet.h"

namespace sluice::chaos {

struct verify_topic {
  std::string name{};
  std::int32_t partitions = 1;
  bool retention = false;  // retention deletes its old segments: acks below log start expire
};

struct verdict {
  std::uint64_t acked = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupted = 0;
  // Details, for stderr.
  std::uint64_t records_read = 0;
  std::uint64_t expired = 0;          // acked, deleted by retention
  std::uint64_t unacked_present = 0;  // in the log without an acknowledgement (ack lost)
  std::uint64_t holes = 0;
  std::uint64_t reordered = 0;
  std::uint64_t bad_bytes = 0;
  std::vector<std::string> problems;  // the first few, described

  [[nodiscard]] bool passed() const { return lost == 0 && duplicated == 0 && corrupted == 0; }
};

// Reads everything through a consumer at `brokers` (the broker must be up, with nothing being
// produced) and checks it against `acks`. Fails (throws std::runtime_error) only when the log
// cannot be read to its end within `timeout`.
[[nodiscard]] verdict verify_log(const std::string& brokers,
                                 const std::vector<verify_topic>& topics,
                                 const std::vector<ack>& acks, std::uint64_t seed,
                                 std::chrono::milliseconds timeout);

}  // namespace sluice::chaos
