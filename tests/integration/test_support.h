#pragma once
// Small helpers shared by the integration tests.

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// REQUIRE for a sluice::result: prints its error when it fails.
#define REQUIRE_OK(expr)                                                                 \
  do {                                                                                   \
    const auto& require_ok_result = (expr);                                              \
    REQUIRE_MESSAGE(require_ok_result.has_value(), require_ok_result.error().message()); \
  } while (false)

namespace sluice::testing {

// text split at newlines.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// True in the sanitizer builds (scripts/sanitize.sh), where the broker under test is built the
// same way: shadow memory makes RSS figures meaningless, and the sanitizer runtime needs file
// descriptors of its own.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool built_with_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool built_with_sanitizer = true;
#else
inline constexpr bool built_with_sanitizer = false;
#endif
#else
inline constexpr bool built_with_sanitizer = false;
#endif

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

// CPU seconds the process has used (user + system), from /proc/PID/stat: a broker that should
// be idle but spins shows here.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace sluice::testing
