#include "admin/cli/stop_signal.h"

#include <atomic>

namespace sluice::cli {

namespace {

std::atomic<int> stop_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");
std::atomic<bool> stop_asked{false};  // request_stop(): not a signal

void on_stop_signal(int /*signal*/) {
  stop_signals.fetch_add(1, std::memory_order_relaxed);
}

void on_broken_pipe(int /*signal*/) {}

void set_handler(int signal, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking reads return EINTR
  sigaction(signal, &sa, nullptr);
}

}  // namespace

void install_broken_pipe_handler() {
  set_handler(SIGPIPE, on_broken_pipe);
}

void install_stop_signals() {
  set_handler(SIGINT, on_stop_signal);
  set_handler(SIGTERM, on_stop_signal);
  install_broken_pipe_handler();
}

void request_stop() {
  stop_asked.store(true, std::memory_order_relaxed);
}

bool stop_requested() {
  return stop_signals_received() > 0 || stop_asked.load(std::memory_order_relaxed);
}

int stop_signals_received() {
  return stop_signals.load(std::memory_order_relaxed);
}

}  // namespace sluice::cli
