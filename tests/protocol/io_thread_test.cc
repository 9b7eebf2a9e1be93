// The client libraries' io thread: call() runs work there and returns its value; calling it
// where the work could never run is a bug that aborts rather than hangs.

#include "protocol/client/io_thread.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>

namespace sluice {
namespace {

// How fn() ended, run in a forked child: the signal that ended it, or 0 for a normal exit. An
// alarm ends a child that hangs (SIGALRM).
int io_thread_test_end_signal(const std::function<void()>& fn) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(10);
    fn();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

TEST_CASE("io_thread: call runs the work on the io thread and returns its value") {
  io_thread io("io-thread-test");
  const auto caller = std::this_thread::get_id();
  const auto ran_on = io.call([&] { return std::this_thread::get_id(); });
  CHECK(ran_on != caller);
  CHECK(io.call([&] { return io.on_this_thread(); }));
  CHECK(io.call([] { return 6 * 7; }) == 42);
}

TEST_CASE("io_thread: call after stop aborts instead of waiting forever") {
  CHECK(io_thread_test_end_signal([] {
          io_thread io("io-thread-test");
          io.stop();
          (void)io.call([] { return 1; });
        }) == SIGABRT);
}

TEST_CASE("io_thread: call from the io thread itself aborts instead of deadlocking") {
  CHECK(io_thread_test_end_signal([] {
          io_thread io("io-thread-test");
          io.post([&io] { (void)io.call([] { return 1; }); });
          std::this_thread::sleep_for(std::chrono::seconds(20));
        }) == SIGABRT);
}

}  // namespace sluice
