#pragma once
// SIGINT and SIGTERM as a request to stop: long-running commands (consume, produce from a
// terminal, perf) check stop_requested() between steps, finish what is in flight, print their
// summary and exit normally instead of dying mid-way.
//
// The handler is installed without SA_RESTART, so a blocking read of stdin in the main thread
// returns EINTR and the reader sees the request at once. For that the signal must reach the
// main thread: client libraries start io threads, which must be created inside
// with_stop_signals_blocked() so they inherit a mask that keeps the signals away from them.

#include <pthread.h>

#include <csignal>

namespace sluice::cli {

// SIGPIPE gets an empty handler, so a closed stdout (`| head`) is an EPIPE write error the
// command handles rather than a silent death; being caught rather than ignored, it is back to
// the default in a program we exec (sluice-log). main() installs it for every command.
void install_broken_pipe_handler();

// Installs the handlers of SIGINT, SIGTERM and SIGPIPE (idempotent).
void install_stop_signals();

// Asks the command to stop as a signal would (the reader of stdout went away, say), without
// counting as a signal for stop_signals_received().
void request_stop();

// True after a SIGINT, a SIGTERM or request_stop().
[[nodiscard]] bool stop_requested();
// How many SIGINTs and SIGTERMs arrived: a command that waits after the first (for
// acknowledgements, say) gives up at the next one.
[[nodiscard]] int stop_signals_received();

// Runs f() with SIGINT and SIGTERM blocked in this thread, so threads f() starts never take
// them; the mask is restored afterwards.
template <class F>
auto with_stop_signals_blocked(F f) -> decltype(f()) {
  sigset_t stop_set;
  sigset_t old;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set, &old);
  struct restore {
    sigset_t mask;
    ~restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } guard{old};
  return f();
}

}  // namespace sluice::cli
