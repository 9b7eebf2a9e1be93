#pragma once
// Small helpers shared by the integration tests.

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

// REQUIRE for a sluice::result: prints its error when it fails.
#define REQUIRE_OK(expr)                                                                 \
  do {                                                                                   \
    const auto& require_ok_result = (expr);                                              \
    REQUIRE_MESSAGE(require_ok_result.has_value(), require_ok_result.error().message()); \
  } while (false)

namespace sluice::testing {

// Polls `pred` every 5 ms until it holds (true) or `timeout` passed (false): tests wait for a
// condition with a generous deadline, never for a fixed time.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sluice::testing
