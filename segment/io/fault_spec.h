#pragma once
// Fault rules for a whole process, FOR TESTS ONLY: the broker reads them from the environment
// variable SLUICE_FAULT_INJECTION at start-up and wraps every shard's backend in a
// faulty_backend that applies them, so an integration test can make a real `sluiced` see EIO,
// ENOSPC, torn writes or failed fdatasyncs on one partition. Unset (the normal case), no
// wrapper exists and nothing is checked on the I/O path.
//
//   SLUICE_FAULT_INJECTION="write:EIO:partition=t-0:after=3;sync:EIO:partition=t-1:after=2"
//
//   spec  := rule (';' rule)*
//   rule  := op ':' errno (':' key '=' value)*
//   op    := write | zeros | sync | truncate
//            write: async_write_at of records; zeros: async_write_at of the zeros kept ahead
//            of small durable appends (segment/zero_tail.h); sync: async_datasync,
//            async_sync_filesystem and datasync; truncate: truncate (the cut back after a
//            failed write, and cutting zeros off)
//   errno := EIO | ENOSPC | EDQUOT | EROFS
//   keys  := partition=<topic>-<n>   only files in that partition's directory (default: all)
//            after=<n>              let the first n matching calls through (default 0)
//            times=<n>|all          fail this many matching calls, then stop (default 1)
//            written=<bytes>        write, zeros: that many bytes reach the file before the
//                                   error (a torn, short write; default 0)
//
// Each rule counts the calls it matches on its own, per shard backend (a partition belongs to
// one shard, so a partition= rule counts that partition's calls). Anything malformed is
// refused with a message naming the rule and the problem.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.h"

namespace sluice::io {

inline constexpr const char* fault_injection_env_var = "SLUICE_FAULT_INJECTION";

struct fault_rule {
  enum class op { write, zeros, sync, truncate };
  op kind = op::write;
  int err = 0;
  std::string partition;    // empty: every file
  std::uint64_t after = 0;  // matching calls let through first
  std::uint64_t times = 1;  // 0: every matching call once `after` have passed
  std::size_t written = 0;  // write only: bytes written before the error
  std::string text;         // the rule as given, for logs

  // Whether a call whose `what` (the backend's description: it names the file) belongs to
  // this rule's partition.
  [[nodiscard]] bool matches(std::string_view what) const;
};

// Parses a spec (see above). EINVAL with the offending rule and why on anything malformed; an
// empty spec gives no rules.
[[nodiscard]] result<std::vector<fault_rule>> parse_fault_spec(std::string_view spec);

}  // namespace sluice::io
