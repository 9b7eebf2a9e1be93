#pragma once
// stdin, stdout and stderr as the commands rely on them: present from the start, and output to
// stdout that did not get there reported with its cause.
//
// stdio keeps only an error flag once a write failed (and drops what was buffered), so whoever
// writes or flushes stdout notes errno here, for check_stdout() at the end of main(). A reader
// that went away (EPIPE, `| head`) is a normal end: it also asks a long run (perf) to stop.

#include <cstdio>
#include <string_view>

#include "admin/cli/exit_code.h"

namespace sluice::cli {

// Points each of descriptors 0, 1 and 2 that is closed (`sluice ... >&-`) at /dev/null, before
// anything else opens a file: otherwise the first descriptor a client library opens (an
// eventfd, a socket) would become "stdout" and take its output. stdin is opened write-only and
// stdout read-only, so using them still fails (EBADF) as with a closed descriptor and the
// command says so; stderr is opened for writing, discarding what nobody can read.
void ensure_standard_fds_open();

// Writes `text` to `out` and flushes it, without throwing; false if either failed. A failure on
// stdout is noted (note_stdout_error) and EPIPE there requests a stop (stop_signal.h).
bool write_and_flush(std::FILE* out, std::string_view text);
inline bool flush_output(std::FILE* out) {
  return write_and_flush(out, {});
}

// Remembers the errno of a failed write to stdout; the first one counts.
void note_stdout_error(int err);
// errno of the first failed write to stdout noted, 0 if none.
[[nodiscard]] int stdout_error();

// The exit code of a command that returned `code`, after flushing stdout: output stdout did not
// take (a full disk, a closed descriptor) fails a command that succeeded, with a message saying
// so; a reader that went away (EPIPE) does not.
[[nodiscard]] exit_code check_stdout(exit_code code);

}  // namespace sluice::cli
