// Starting, killing and reaping sluice-crash-appender, and reading its ack lines.

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string_view>

#include "tests/crash/crash_harness.h"

extern char** environ;

namespace sluice::crash {
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

scratch_dir::scratch_dir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / fmt::format("sluice-crash-{}-{:x}", ::getpid(), rd());
  fs::create_directories(path_);
}

scratch_dir::~scratch_dir() {
  if (std::getenv("SLUICE_CRASH_KEEP") != nullptr) {
    std::fprintf(stderr, "crash: kept %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

struct child {
  pid_t pid = -1;
  int out_fd = -1;  // the read end of its ack pipe
};

[[noreturn]] void throw_errno(int err, std::string_view what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(err)));
}

// Our environment with `extra` ("NAME=value") replacing entries of the same name.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const auto& x : extra) {
      replaced = replaced || entry.substr(0, entry.find('=') + 1) == x.substr(0, x.find('=') + 1);
    }
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

child spawn_appender(const fs::path& dir, const run_plan& plan) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // dup2 clears CLOEXEC
  std::vector<std::string> args{SLUICE_CRASH_APPENDER, dir.string(), std::to_string(plan.seed)};
  std::vector<std::string> env = child_environment(plan.env);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, SLUICE_CRASH_APPENDER, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw_errno(rc, "posix_spawn " SLUICE_CRASH_APPENDER);
  }
  return {pid, fds[0]};
}

// Reads what is available into buf; false at end of file (the appender is dead).
bool read_some(int fd, std::string& buf) {
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(errno, "read from the appender");
    buf.append(chunk, static_cast<std::size_t>(n));
    return n > 0;
  }
}

// When the parent kills: plan.kill_after after the start, or after the "open" line.
class kill_clock {
 public:
  kill_clock(const run_plan& plan, steady::time_point start)
      : plan_(plan),
        start_(start),
        deadline_(start +
                  (plan.after_open ? std::chrono::microseconds(open_timeout) : plan.kill_after)) {}

  [[nodiscard]] steady::time_point deadline() const { return deadline_; }
  // Looks for the "open" line at the start of what was read so far.
  void note(const std::string& buf, run_outcome& out) {
    if (out.open_latency || !buf.starts_with("open ") || buf.find('\n') == std::string::npos) {
      return;
    }
    auto now = steady::now();
    out.open_latency = std::chrono::duration_cast<std::chrono::microseconds>(now - start_);
    if (plan_.after_open) deadline_ = now + plan_.kill_after;
  }

 private:
  const run_plan& plan_;
  steady::time_point start_;
  steady::time_point deadline_;
};

// Reads until the kill time or end of file; false at end of file (the appender is dead).
bool read_until(int fd, kill_clock& when, std::string& buf, run_outcome& out) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(when.deadline() - steady::now());
    if (left.count() <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw_errno(errno, "poll");
    if (rc == 0) return true;
    if (!read_some(fd, buf)) return false;
    when.note(buf, out);
  }
}

void parse_line(std::string_view line, run_outcome& out) {
  if (auto ack = parse_ack_line(line)) {
    out.acks.push_back(*ack);
  } else if (line.starts_with("open ")) {
    std::string_view rest = line.substr(5);
    offset start{0}, end{0};
    if (detail::take_number(rest, start.value) && detail::take_number(rest, end.value) &&
        detail::take_number(rest, out.open_bytes_cut)) {
      out.open_log_end = end;
      out.open_cut_reason = std::string(rest);
    } else {
      out.bad_lines.emplace_back(line);
    }
  } else if (line.starts_with("kill ")) {
    out.kill_point = std::string(line.substr(5));
  } else {
    out.bad_lines.emplace_back(line);
  }
}

// Only lines ending in '\n' count; what follows the last one was cut short by the kill.
void parse_lines(std::string_view buf, run_outcome& out) {
  for (auto nl = buf.find('\n'); nl != std::string_view::npos; nl = buf.find('\n')) {
    parse_line(buf.substr(0, nl), out);
    buf.remove_prefix(nl + 1);
  }
  out.cut_line_bytes = buf.size();
}

}  // namespace

run_outcome run_appender(const fs::path& dir, const run_plan& plan) {
  run_outcome out;
  std::string buf;
  kill_clock when(plan, steady::now());
  child c = spawn_appender(dir, plan);
  bool alive = read_until(c.out_fd, when, buf, out);
  ::kill(c.pid, SIGKILL);
  while (alive) alive = read_some(c.out_fd, buf);
  ::close(c.out_fd);
  while (::waitpid(c.pid, &out.wait_status, 0) < 0 && errno == EINTR) {
  }
  parse_lines(buf, out);
  return out;
}

}  // namespace sluice::crash
