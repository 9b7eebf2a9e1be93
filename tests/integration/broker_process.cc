#include "tests/integration/broker_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace sluice::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

temp_dir::temp_dir(std::string_view prefix) {
  std::random_device rd;
  path_ = fs::temp_directory_path() / fmt::format("{}-{}-{:x}", prefix, ::getpid(), rd());
  fs::create_directories(path_);
}

temp_dir::~temp_dir() {
  if (std::getenv("SLUICE_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path bin_dir() {
  return SLUICE_BIN_DIR;
}

broker_process::broker_process(options opts) : opts_(std::move(opts)) {
  fs::create_directories(opts_.data_dir);
  log_path_ = opts_.data_dir.parent_path() /
              fmt::format("sluiced-{}.log", opts_.data_dir.filename().string());
  start();
}

broker_process::~broker_process() {
  if (!running()) return;
  try {
    stop(10s);
  } catch (...) {
  }
  if (running()) kill();
}

namespace {

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::optional<std::uint16_t> read_port(const fs::path& file) {
  std::ifstream in(file);
  unsigned port = 0;
  if (in >> port && port > 0 && port < 65536) return static_cast<std::uint16_t>(port);
  return std::nullopt;
}

}  // namespace

void broker_process::start() {
  if (running()) throw std::logic_error("broker_process::start: already running");
  const fs::path ready = opts_.data_dir.parent_path() /
                         fmt::format("{}.ready-{}", opts_.data_dir.filename().string(), starts_++);
  fs::remove(ready);
  std::vector<std::string> args = {(bin_dir() / opts_.program).string(),
                                   "--data-dir",
                                   opts_.data_dir.string(),
                                   "--host",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(opts_.port),
                                   "--ready-file",
                                   ready.string()};
  args.insert(args.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), opts_.env.begin(), opts_.env.end());

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(fmt::format("spawn {}: {}", args[0], std::strerror(rc)));
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + opts_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto port = read_port(ready)) {
      port_ = *port;
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(
          fmt::format("sluiced exited during start-up (status {}):\n{}", status, log_text()));
    }
    std::this_thread::sleep_for(10ms);
  }
  kill();
  throw std::runtime_error(fmt::format("sluiced did not become ready within {} ms:\n{}",
                                       opts_.start_timeout.count(), log_text()));
}

int broker_process::stop(std::chrono::milliseconds timeout) {
  if (!running()) return -1;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  kill();
  throw std::runtime_error(fmt::format("sluiced did not stop within {} ms after SIGTERM:\n{}",
                                       timeout.count(), log_text()));
}

void broker_process::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::optional<int> broker_process::exited() {
  if (!running()) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  return status;
}

void broker_process::pause() {
  if (running()) ::kill(pid_, SIGSTOP);
}

void broker_process::resume() {
  if (running()) ::kill(pid_, SIGCONT);
}

std::string broker_process::address() const {
  return fmt::format("127.0.0.1:{}", port_);
}

std::string broker_process::log_text() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace sluice::testing
