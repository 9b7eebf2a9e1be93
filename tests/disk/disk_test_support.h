#pragma once
// Helpers for the broker-level disk fault tests: a private mount namespace with small tmpfs
// file systems (disk full), records that carry their identity, and reading a partition back
// through the consumer to check it against what was acknowledged.

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "consumer/consumer.h"
#include "producer/producer.h"
#include "tests/integration/broker_process.h"

namespace sluice::testing {

// Whether an error message or a broker log mentions `part`.
inline bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Called by main() before any thread exists: unshares the mount namespace (as root; else
// through a user namespace) and makes every mount private, so the tmpfs file systems mounted
// by the tests are seen by this process and the brokers it starts, and by nothing else.
void enter_private_mount_namespace();
// Empty once enter_private_mount_namespace() succeeded; else why it failed.
[[nodiscard]] const std::string& mount_namespace_error();

// A tmpfs of `bytes` mounted on a fresh directory (data_dir()) inside a temp dir, so the
// broker's log and ready files (written beside the data dir) stay off it. Fails the test,
// saying why, when it cannot be mounted. Unmounted on destruction.
class small_tmpfs {
 public:
  explicit small_tmpfs(std::uint64_t bytes);
  ~small_tmpfs();
  small_tmpfs(const small_tmpfs&) = delete;
  small_tmpfs& operator=(const small_tmpfs&) = delete;
  [[nodiscard]] std::filesystem::path data_dir() const { return dir_.path() / "data"; }
  [[nodiscard]] std::uint64_t free_bytes() const;
  // Remounts with a new size: space added (or taken) from outside the broker.
  void resize(std::uint64_t bytes);

 private:
  temp_dir dir_{"sluice-disk"};
  bool mounted_ = false;
};

// Record `seq` of stream `tag`: key "<tag>-<seq>", a value of `size` bytes derived from both.
[[nodiscard]] std::string key_of(std::string_view tag, std::uint64_t seq);
[[nodiscard]] std::string value_of(std::string_view tag, std::uint64_t seq, std::size_t size);

// Sends one record to topic/partition and waits for its outcome.
[[nodiscard]] result<record_metadata> send_one(producer& p, const std::string& topic,
                                               std::int32_t partition, std::string_view tag,
                                               std::uint64_t seq, std::size_t size);

// Every record of topic/partition from the log start up to the high watermark, read with the
// consumer (CRCs checked). Fails the test on a consumer error.
[[nodiscard]] std::vector<consumer_record> read_partition(const std::string& address,
                                                          const std::string& topic,
                                                          std::int32_t partition);

// What was acknowledged: seq -> offset.
using acked_map = std::map<std::uint64_t, std::int64_t>;

// Checks a partition read back: every record is a whole record of stream `tag` that was sent
// (seq below `sent`), offsets are contiguous, no seq twice; every acknowledged seq at or past
// `from_offset` is there, at its offset, byte-identical. Unacknowledged seqs may appear only if
// `allow_unacked` (a send that timed out may or may not have been stored).
void check_partition(const std::vector<consumer_record>& read, std::string_view tag,
                     std::size_t size, std::uint64_t sent, const acked_map& acked,
                     bool allow_unacked, std::int64_t from_offset = 0);

}  // namespace sluice::testing
