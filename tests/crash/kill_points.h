#pragma once
// Kill points of sluice-crash-appender: moments inside the storage engine's slow paths where
// the appender kills itself on purpose (SIGKILL), selected with SLUICE_CRASH_KILL_AT=<name>:<n>.
//
// segment/ has no test hooks, so the points are found from outside: the appender is linked with
// `-Wl,--wrap=<fn>` for the file-system calls below, and kill_points.cc recognises the moment
// by the call and its path (checkpoint.tmp, a .log file). Only calls made from the statically
// linked Sluice libraries (and the appender itself) pass through the wrappers.

#include <array>
#include <string_view>

namespace sluice::crash {

struct kill_point {
  std::string_view name;
  std::string_view moment;
  int max_n;  // the test picks n in [1, max_n]
};

inline constexpr std::array<kill_point, 7> kill_points{{
    {"checkpoint_tmp_torn", "half of checkpoint.tmp written", 10},
    {"checkpoint_before_rename", "checkpoint.tmp written and fdatasync'd, not renamed", 10},
    {"checkpoint_after_rename", "checkpoint renamed, directory not fsync'd", 10},
    {"segment_created", "a roll's new .log exists (made or recycled), its indexes do not", 4},
    // The roll itself syncs nothing: its directory fsync runs in the group commit after it
    // (a libc fsync on the pwrite backend; on io_uring an IORING_OP_FSYNC, which the wrapper
    // does not see, so there the point is the next libc fsync, a checkpoint's directory).
    {"segment_rolled", "the first fsync after a roll's new .log was created", 4},
    {"segment_deleted",
     "retention unlinked a .log (or renamed it to be recycled), its indexes "
     "still exist",
     3},
    {"log_truncated", "recovery cut a .log (ftruncate), indexes and checkpoint not updated", 1},
}};

// Where the appender reports "kill <name>\n" just before it dies (its ack fd).
void set_kill_report_fd(int fd);

}  // namespace sluice::crash
