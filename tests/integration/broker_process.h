#pragma once
// A real `sluiced` process for integration tests, on a loopback port the broker picks itself.
//
//   sluice::testing::temp_dir dir;
//   sluice::testing::broker_process broker({.data_dir = dir.path()});
//   auto p = sluice::producer::create({.brokers = broker.address()}).value();
//   ...
//   broker.kill();      // SIGKILL, as a crash
//   broker.start();     // same data dir, a new port (address() changes)
//
// The broker is started with `--port 0 --ready-file <file>`: it binds an ephemeral port on
// 127.0.0.1 and writes the port number to the file once it accepts connections; start() waits
// for that file. Its stdout/stderr go to <data_dir>/../sluiced-<n>.log (printed when a start
// fails). Destruction stops it with SIGTERM (then SIGKILL after 10 s).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

// A fresh directory under the system temp dir, removed on destruction (kept when the
// environment variable SLUICE_KEEP_TEST_DIRS is set).
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix = "sluice-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Where the build put sluiced and sluice (the CMake target's directory).
[[nodiscard]] std::filesystem::path bin_dir();

class broker_process {
 public:
  struct options {
    std::filesystem::path data_dir;         // created if missing
    std::vector<std::string> extra_args{};  // e.g. {"--retention-check-interval-ms", "200"}
    std::vector<std::string> env{};         // "NAME=value" added to the environment
    std::chrono::milliseconds start_timeout{30'000};
    std::string program = "sluiced";  // in bin_dir(); e.g. a build of sluiced with kill points
    std::uint16_t port = 0;           // 0: a new ephemeral port on every start
  };

  explicit broker_process(options opts);  // start()s; throws std::runtime_error on failure
  ~broker_process();
  broker_process(const broker_process&) = delete;
  broker_process& operator=(const broker_process&) = delete;

  // Starts the broker (REQUIRES: not running) and waits until it accepts connections.
  void start();
  // SIGTERM and wait; returns the exit status (0 = clean shutdown). -1 when killed by a signal.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGKILL and reap: a crash.
  void kill();
  // When the process ended on its own (it crashed, or killed itself), reaps it and returns its
  // wait status (see waitpid(2)); nullopt while it runs or when it was not running.
  [[nodiscard]] std::optional<int> exited();
  void pause();   // SIGSTOP
  void resume();  // SIGCONT
  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", for client configs.
  [[nodiscard]] std::string address() const;
  [[nodiscard]] const std::filesystem::path& data_dir() const { return opts_.data_dir; }
  // The broker's output so far (all starts), for failure messages.
  [[nodiscard]] std::string log_text() const;

 private:
  options opts_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int starts_ = 0;
  std::filesystem::path log_path_;
};

}  // namespace sluice::testing
