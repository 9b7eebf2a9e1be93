#pragma once
// What `sluice produce` reports when it is done: records and bytes stored, the first and last
// offset per partition, and the failures (how many, and the first error of each kind).
//
// Not thread-safe: the produce command updates it from producer callbacks under its mutex.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "producer/producer.h"
#include "protocol/result.h"

namespace sluice::cli {

class produce_summary {
 public:
  void on_stored(const record_metadata& md, std::uint64_t bytes);
  void on_failed(const error& e);

  [[nodiscard]] std::uint64_t stored() const { return stored_; }
  [[nodiscard]] std::uint64_t failed() const { return failed_; }

  // "produced 3 records (42 B) to events in 0.12 s" and one line per partition:
  // "  partition 0: 2 records, offsets 0..1" (offsets unknown with acks=0).
  [[nodiscard]] std::string format(std::string_view topic, double seconds) const;
  // "2 of 5 records failed: <first error>" (with the number of other kinds of error); nullopt
  // when none failed.
  [[nodiscard]] std::optional<std::string> failure_line() const;

 private:
  struct partition_outcome {
    std::uint64_t records = 0;
    std::int64_t first_offset = -1;  // -1: unknown (acks=0)
    std::int64_t last_offset = -1;
  };

  std::map<std::int32_t, partition_outcome> partitions_;
  std::uint64_t stored_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t failed_ = 0;
  std::optional<error> first_error_;
  std::map<std::string, std::uint64_t> failures_by_kind_;  // by the code's message
};

// "1 record", "3 records".
[[nodiscard]] std::string count_of_records(std::uint64_t n);

// A record's payload size as the summary counts it: key, value and header names and values.
[[nodiscard]] std::uint64_t record_bytes(const producer_record& r);

}  // namespace sluice::cli
