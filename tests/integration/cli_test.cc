// The `sluice` command-line tool against a real sluiced: the binary is run as a user would run
// it (arguments, stdin, stdout, stderr, exit code).

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "protocol/api_versions.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/test_support.h"

extern char** environ;

namespace sluice::testing {

namespace {

struct cli_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A started `sluice`: stdin from a file, stdout and stderr to files in `dir` (no pipes, so
// nothing can deadlock on a full pipe).
struct cli_process {
  pid_t pid = -1;
  std::filesystem::path out_path;
  std::filesystem::path err_path;
};

// Waits (up to 30 s) until the process has written `expected` to its stdout file.
void wait_for_output(const cli_process& p, const std::string& expected) {
  for (int i = 0; i < 600 && read_all(p.out_path) != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(read_all(p.out_path) == expected);
}

// Passed as start_sluice_in's `stdout_fd`: sluice starts with descriptor 1 closed (`>&-`).
constexpr int closed_stdout = -2;

// With `stdout_fd` >= 0, stdout is that descriptor rather than a file (closed_stdout: none);
// with `stdin_fd` >= 0, stdin is that descriptor rather than a file holding `input`.
cli_process start_sluice_in(const std::filesystem::path& dir, const std::vector<std::string>& args,
                            const std::string& input, const std::string& tag = "",
                            int stdout_fd = -1, int stdin_fd = -1) {
  const auto in_path = dir / ("stdin" + tag);
  cli_process p{-1, dir / ("stdout" + tag), dir / ("stderr" + tag)};
  std::ofstream(in_path, std::ios::binary) << input;
  std::ofstream(p.out_path, std::ios::binary).flush();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  }
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  } else if (stdout_fd == closed_stdout) {
    posix_spawn_file_actions_addclose(&actions, 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  posix_spawn_file_actions_addopen(&actions, 2, p.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  const auto exe = (bin_dir() / "sluice").string();
  std::vector<std::string> argv_text{exe};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&p.pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE_MESSAGE(rc == 0, "cannot start ", exe);
  return p;
}

// Waits for the process to exit; one still running after `limit` is killed and fails the test
// (a hung command must not hang the suite or fill the disk with output).
cli_result wait_for(const cli_process& p, std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(p.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(p.pid, SIGKILL);
      ::waitpid(p.pid, &status, 0);
      FAIL("sluice still running after ", limit.count(), " s; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE_MESSAGE(WIFEXITED(status), "sluice did not exit normally: ", read_all(p.err_path));
  return {WEXITSTATUS(status), read_all(p.out_path), read_all(p.err_path)};
}

cli_result run_sluice_in(const std::filesystem::path& dir, const std::vector<std::string>& args,
                         const std::string& input, const std::string& tag = "") {
  return wait_for(start_sluice_in(dir, args, input, tag));
}

// A broker and a scratch directory for the CLI's files.
class cli_fixture {
 public:
  cli_fixture() : broker_({.data_dir = dir_.path() / "data"}) {}

  cli_result run(std::vector<std::string> args, const std::string& input = "") {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    return run_sluice_in(dir_.path(), args, input);
  }
  cli_process start(std::vector<std::string> args, const std::string& tag) {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    return start_sluice_in(dir_.path(), args, "", tag);
  }
  // The same with stdout a pipe whose reader has gone (as `| head` leaves it).
  cli_result run_into_closed_pipe(std::vector<std::string> args) {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    std::array<int, 2> fds{};
    REQUIRE(::pipe(fds.data()) == 0);
    ::close(fds[0]);
    auto p = start_sluice_in(dir_.path(), args, "", "-pipe", fds[1]);
    ::close(fds[1]);
    return wait_for(p);
  }
  // The same with stdout /dev/full: every write fails with ENOSPC.
  cli_result run_into_full_disk(std::vector<std::string> args) {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    auto p = start_sluice_in(dir_.path(), args, "", "-full", full);
    ::close(full);
    return wait_for(p);
  }
  // The same with stdout closed (`>&-`).
  cli_result run_with_stdout_closed(std::vector<std::string> args) {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    return wait_for(start_sluice_in(dir_.path(), args, "", "-closed", closed_stdout));
  }
  // Started with stdout a pipe the test reads (`stdout_reader`, the test's to close).
  cli_process start_with_stdout_pipe(std::vector<std::string> args, int& stdout_reader) {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    std::array<int, 2> fds{};
    REQUIRE(::pipe2(fds.data(), O_CLOEXEC) == 0);
    auto p = start_sluice_in(dir_.path(), args, "", "-stdout", fds[1]);
    ::close(fds[1]);
    stdout_reader = fds[0];
    return p;
  }
  // Started with stdin a pipe the test writes to (`stdin_writer`, the test's to close).
  cli_process start_with_stdin_pipe(std::vector<std::string> args, int& stdin_writer) {
    args.push_back("--brokers");
    args.push_back(broker_.address());
    std::array<int, 2> fds{};
    REQUIRE(::pipe2(fds.data(), O_CLOEXEC) == 0);
    auto p = start_sluice_in(dir_.path(), args, "", "-stdin", -1, fds[0]);
    ::close(fds[0]);
    stdin_writer = fds[1];
    return p;
  }
  // The same without --brokers (for the log command and broker-less errors).
  cli_result run_bare(const std::vector<std::string>& args) {
    return run_sluice_in(dir_.path(), args, "");
  }
  cli_result run_ok(std::vector<std::string> args, const std::string& input = "") {
    auto r = run(std::move(args), input);
    REQUIRE_MESSAGE(r.exit_code == 0, "stderr: ", r.err, "\nbroker: ", broker_.log_text());
    return r;
  }

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
  [[nodiscard]] broker_process& broker() { return broker_; }

 private:
  temp_dir dir_{"sluice-cli-test"};
  broker_process broker_;
};

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(text)) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("topic create, list, describe, alter and delete through the CLI") {
    cli_fixture f;
    auto created = f.run_ok(
        {"topic", "create", "events", "--partitions", "3", "--config", "retention.ms=3600000"});
    CHECK(created.out.find("created topic events (3 partitions)") != std::string::npos);
    f.run_ok({"topic", "create", "audit"});
    CHECK(f.run_ok({"topic", "list"}).out == "audit\nevents\n");

    auto described = f.run_ok({"topic", "describe", "events"}).out;
    CHECK(described.find("Topic: events") == 0);
    CHECK(described.find("Partitions: 3") != std::string::npos);
    CHECK(described.find("retention.ms=3600000\n") != std::string::npos);
    CHECK(described.find("segment.bytes=") != std::string::npos);
    CHECK(described.find("(default)") != std::string::npos);
    CHECK(described.find("HighWatermark") != std::string::npos);

    f.run_ok(
        {"topic", "alter", "events", "--config", "segment.ms=60000", "--reset", "retention.ms"});
    const auto j = json_lines(f.run_ok({"topic", "describe", "events", "--json"}).out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["partitions"].size() == 3);
    for (const auto& c : j[0]["configs"]) {
      if (c["name"] == "segment.ms")
        CHECK(c ==
              nlohmann::json{{"name", "segment.ms"}, {"value", "60000"}, {"is_default", false}});
      if (c["name"] == "retention.ms") CHECK(c["is_default"] == true);
    }

    CHECK(f.run_ok({"topic", "delete", "audit"}).out == "deleted topic audit\n");
    CHECK(f.run_ok({"topic", "list"}).out == "events\n");
  }

  TEST_CASE("a topic that already exists and a bad config exit 1 with the broker's message") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    auto again = f.run({"topic", "create", "events"});
    CHECK(again.exit_code == 1);
    CHECK(again.err.starts_with("sluice: create topic events: "));
    CHECK(lines_of(again.err).size() == 1);
    auto bad = f.run({"topic", "alter", "events", "--config", "flush=sometimes"});
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("flush") != std::string::npos);
  }

  TEST_CASE("produced lines with keys and headers come back from consume as JSON") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events", "--partitions", "2"});
    const std::string input = "user-1:clicked\nuser-2:viewed\nno separator\nuser-1:left\n";
    auto produced = f.run_ok({"produce", "events", "--key-separator", ":", "--header", "source=cli",
                              "--header", "run=1"},
                             input);
    CHECK(produced.err.find("produced 4 records") != std::string::npos);
    CHECK(produced.err.find("offsets 0..") != std::string::npos);

    auto consumed =
        f.run_ok({"consume", "events", "--from-beginning", "--count", "4", "--format", "json"});
    auto records = json_lines(consumed.out);
    REQUIRE(records.size() == 4);
    std::multiset<std::string> got;
    for (const auto& r : records) {
      CHECK(r["topic"] == "events");
      CHECK(r["headers"] ==
            nlohmann::json::parse(R"([{"key":"source","value":"cli"},{"key":"run","value":"1"}])"));
      CHECK(r["timestamp"].get<std::int64_t>() > 0);
      got.insert((r["key"].is_null() ? std::string("null") : r["key"].get<std::string>()) + "=" +
                 r["value"].get<std::string>());
    }
    CHECK(got == std::multiset<std::string>{"user-1=clicked", "user-2=viewed", "null=no separator",
                                            "user-1=left"});
    // Equal keys land on one partition, in order.
    std::vector<std::string> user1;
    for (const auto& r : records) {
      if (r["key"] == "user-1") user1.push_back(std::to_string(r["partition"].get<int>()));
    }
    REQUIRE(user1.size() == 2);
    CHECK(user1[0] == user1[1]);
  }

  TEST_CASE("produce and perf produce with --acks 0 send without waiting for acknowledgements") {
    cli_fixture f;
    f.run_ok({"topic", "create", "fire"});
    auto produced = f.run_ok({"produce", "fire", "--acks", "0"}, "a\nb\nc\n");
    CHECK(produced.err.find("produced 3 records") != std::string::npos);
    // Nothing acknowledged them: wait for the three to be readable.
    CHECK(f.run_ok({"consume", "fire", "--from-beginning", "--follow", "--count", "3"}).out ==
          "a\nb\nc\n");
    const auto perf = json_lines(f.run_ok({"perf", "produce", "--topic", "fire", "--num-records",
                                           "100", "--acks", "0", "--json"})
                                     .out);
    REQUIRE(perf.size() == 1);
    CHECK(perf[0]["records"] == 100);
  }

  TEST_CASE("consume stops at the high watermark seen at the start; text shows key and offset") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    f.run_ok({"produce", "events", "--key-separator", "=", "--partition", "0"}, "a=1\nb=2\nc=3\n");
    auto all = f.run_ok({"consume", "events", "--from-beginning", "--print-key", "--print-offset"});
    CHECK(
        all.out ==
        "Partition:0\tOffset:0\ta\t1\nPartition:0\tOffset:1\tb\t2\nPartition:0\tOffset:2\tc\t3\n");
    CHECK(all.err.find("consumed 3 records") != std::string::npos);
    CHECK(f.run_ok({"consume", "events", "--from-beginning", "--count", "2"}).out == "1\n2\n");
    // The default start is the end: nothing new, nothing printed.
    CHECK(f.run_ok({"consume", "events"}).out.empty());
    // Records the reader never got are not counted as consumed; a reader going away is no error.
    auto unread = f.run_into_closed_pipe({"consume", "events", "--from-beginning"});
    CHECK(unread.exit_code == 0);
    CHECK(unread.err.find("consumed 0 records") != std::string::npos);
  }

  TEST_CASE("consume --offset and --from-time start where asked") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    f.run_ok({"produce", "events"}, "old-1\nold-2\nold-3\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto cut = now_ms();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f.run_ok({"produce", "events"}, "new-1\nnew-2\n");

    CHECK(f.run_ok({"consume", "events", "--offset", "2"}).out == "old-3\nnew-1\nnew-2\n");
    CHECK(f.run_ok({"consume", "events", "--from-time", std::to_string(cut)}).out ==
          "new-1\nnew-2\n");
    CHECK(f.run_ok({"consume", "events", "--from-time", "2000-01-01T00:00:00Z"}).out ==
          "old-1\nold-2\nold-3\nnew-1\nnew-2\n");
    // Nanoseconds with a comma, as `date -Ins` prints them.
    CHECK(
        f.run_ok({"consume", "events", "--from-time", "2000-01-01T00:00:00,123456789+00:00"}).out ==
        "old-1\nold-2\nold-3\nnew-1\nnew-2\n");
    auto past_end = f.run({"consume", "events", "--offset", "99"});
    CHECK(past_end.exit_code == 1);
    CHECK(past_end.err.find("past the end") != std::string::npos);
    // Later than every record: nothing.
    CHECK(f.run_ok({"consume", "events", "--from-time", std::to_string(now_ms() + 3'600'000)})
              .out.empty());
  }

  TEST_CASE("consume --follow waits for new records and stops at --count") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    std::thread late_producer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      run_sluice_in(f.dir(), {"produce", "events", "--brokers", f.broker().address()},
                    "late-1\nlate-2\n", "-producer");
    });
    // From the beginning of the empty topic, so the records count however late it starts.
    auto followed = f.run({"consume", "events", "--from-beginning", "--follow", "--count", "2"});
    late_producer.join();
    CHECK(followed.exit_code == 0);
    CHECK(followed.out == "late-1\nlate-2\n");
  }

  TEST_CASE("SIGINT and SIGTERM end consume --follow cleanly with exit 0") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    f.run_ok({"produce", "events"}, "a\nb\n");
    for (int sig : {SIGINT, SIGTERM}) {
      CAPTURE(sig);
      auto p = f.start({"consume", "events", "--from-beginning", "--follow"}, "-follow");
      wait_for_output(p, "a\nb\n");  // then it follows
      ::kill(p.pid, sig);
      auto r = wait_for(p);
      CHECK(r.exit_code == 0);
      CHECK(r.out == "a\nb\n");
      CHECK(r.err.find("consumed 2 records") != std::string::npos);
    }
  }

  TEST_CASE("produce --file reads records from a file, with --progress on stderr") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    const auto file = f.dir() / "records.txt";
    std::string text;
    for (int i = 0; i < 500; ++i) text += "line-" + std::to_string(i) + "\n";
    std::ofstream(file) << text;
    auto produced = f.run_ok({"produce", "events", "--file", file.string(), "--progress"});
    CHECK(produced.err.find("100%") != std::string::npos);
    CHECK(produced.err.find("produced 500 records") != std::string::npos);
    auto consumed = f.run_ok({"consume", "events", "--from-beginning"});
    CHECK(consumed.out == text);
  }

  TEST_CASE("perf produce --json prints the figures") {
    cli_fixture f;
    f.run_ok({"topic", "create", "bench", "--partitions", "2"});
    const auto plot = f.dir() / "latency.svg";
    auto r =
        f.run_ok({"perf", "produce", "--topic", "bench", "--num-records", "2000", "--record-size",
                  "64", "--max-in-flight", "2", "--json", "--plot", plot.string()});
    const auto figures = json_lines(r.out);
    REQUIRE(figures.size() == 1);
    const auto& j = figures[0];
    CHECK(j["mode"] == "produce");
    CHECK(j["records"] == 2000);
    CHECK(j["failed"] == 0);
    CHECK(j["bytes"] == 2000 * 64);
    CHECK(j["records_per_sec"].get<double>() > 0);
    CHECK(j["mib_per_sec"].get<double>() > 0);
    CHECK(j["latency"] == "send-to-ack");
    CHECK(j["latency_p50_ms"].get<double>() > 0);
    CHECK(j["latency_p99_ms"] >= j["latency_p50_ms"]);
    CHECK(j["latency_p999_ms"] >= j["latency_p99_ms"]);
    CHECK(j["latency_max_ms"] >= j["latency_p999_ms"]);
    CHECK(r.err.find("send-to-ack latency: p50") != std::string::npos);
    CHECK(read_all(plot).find("<svg") != std::string::npos);
    const auto hw = json_lines(f.run_ok({"topic", "describe", "bench", "--json"}).out)[0];
    CHECK(hw["partitions"][0]["high_watermark"].get<int>() +
              hw["partitions"][1]["high_watermark"].get<int>() ==
          2000);
  }

  TEST_CASE("perf e2e and perf consume report their figures") {
    cli_fixture f;
    f.run_ok({"topic", "create", "bench"});
    const auto e2e = json_lines(f.run_ok({"perf", "e2e", "--topic", "bench", "--num-records", "500",
                                          "--throughput", "5000", "--json"})
                                    .out);
    REQUIRE(e2e.size() == 1);
    CHECK(e2e[0]["mode"] == "e2e");
    CHECK(e2e[0]["records"] == 500);
    CHECK(e2e[0]["latency"] == "end-to-end");
    CHECK(e2e[0]["latency_p50_ms"].get<double>() > 0);
    const auto consume =
        json_lines(f.run_ok({"perf", "consume", "--topic", "bench", "--json"}).out);
    REQUIRE(consume.size() == 1);
    CHECK(consume[0]["records"] == 500);
    CHECK(consume[0]["latency_p50_ms"].is_null());
  }

  TEST_CASE("perf consume --num-records stops at exactly that many") {
    cli_fixture f;
    f.run_ok({"topic", "create", "bench"});
    f.run_ok({"perf", "produce", "--topic", "bench", "--num-records", "500"});
    const auto consume = json_lines(
        f.run_ok({"perf", "consume", "--topic", "bench", "--num-records", "10", "--json"}).out);
    REQUIRE(consume.size() == 1);
    CHECK(consume[0]["records"] == 10);
  }

  TEST_CASE("output stdout did not take fails the command") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"topic", "list"},
             {"topic", "describe", "t", "--json"},
             {"perf", "produce", "--topic", "t", "--num-records", "10", "--json"}}) {
      CAPTURE(args.front() + " " + args[1]);
      auto r = f.run_into_full_disk(args);
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("write to stdout") != std::string::npos);
    }
  }

  TEST_CASE("a command started with stdout closed fails saying stdout could not be written") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    // One 8-byte line: an eventfd takes such a write, and the client's first eventfd is what
    // descriptor 1 would be if nothing held it.
    f.run_ok({"produce", "t"}, "1234567\n");
    auto consumed = f.run_with_stdout_closed({"consume", "t", "--from-beginning"});
    CHECK(consumed.exit_code == 1);
    CHECK_MESSAGE(consumed.err.find("consumed 0 records") != std::string::npos, consumed.err);
    CHECK_MESSAGE(consumed.err.find("write to stdout") != std::string::npos, consumed.err);
    auto listed = f.run_with_stdout_closed({"topic", "list"});
    CHECK(listed.exit_code == 1);
    CHECK_MESSAGE(listed.err.find("write to stdout") != std::string::npos, listed.err);
  }

  TEST_CASE("a reader that went away (`| head`) ends every command with exit 0") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t", "--partitions", "64"});
    // Bigger than stdio's buffer, so the write happens inside the command's printing.
    REQUIRE(f.run_ok({"topic", "describe", "t", "--json"}).out.size() > 8192);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"topic", "list"},
             {"topic", "describe", "t", "--json"},
             {"topic", "describe", "t"},
             {"perf", "produce", "--topic", "t", "--num-records", "10"}}) {
      CAPTURE(args.front() + " " + args[1]);
      auto r = f.run_into_closed_pipe(args);
      CHECK(r.exit_code == 0);
      CHECK_MESSAGE(r.err.find("write to stdout") == std::string::npos, r.err);
    }
  }

  TEST_CASE("perf with progress on stdout stops early once its reader went away, exit 0") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    int out = -1;
    auto p = f.start_with_stdout_pipe({"perf", "produce", "--topic", "t", "--duration", "30",
                                       "--throughput", "200", "--report-interval-ms", "100"},
                                      out);
    // `| head -2`: two progress lines, then the reader is gone.
    std::string read;
    std::array<char, 256> buf{};
    while (std::count(read.begin(), read.end(), '\n') < 2) {
      const auto n = ::read(out, buf.data(), buf.size());
      if (n <= 0) break;  // sluice exited
      read.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(out);
    const auto gone = std::chrono::steady_clock::now();
    REQUIRE(std::count(read.begin(), read.end(), '\n') >= 2);
    auto r = wait_for(p, std::chrono::seconds(60));
    CHECK(std::chrono::steady_clock::now() - gone < std::chrono::seconds(10));
    CHECK(r.exit_code == 0);
    CHECK_MESSAGE(r.err.find("write to stdout") == std::string::npos, r.err);
  }

  TEST_CASE("perf produce and e2e paced by --throughput end at --duration") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    for (const char* mode : {"produce", "e2e"}) {
      CAPTURE(mode);
      const auto started = std::chrono::steady_clock::now();
      const auto figures = json_lines(f.run_ok({"perf", mode, "--topic", "t", "--duration", "1",
                                                "--throughput", "10", "--json"})
                                          .out);
      const auto took = std::chrono::steady_clock::now() - started;
      REQUIRE(figures.size() == 1);
      // 10 records a second for 1 s; not a first batch of 64 taking 6.4 s.
      CHECK(figures[0]["records"].get<int>() >= 5);
      CHECK(figures[0]["records"].get<int>() <= 11);
      // The end comes at --duration, plus the last acknowledgements and a busy machine's delays.
      CHECK(figures[0]["seconds"].get<double>() < 5);
      CHECK(took < std::chrono::seconds(15));
    }
  }

  TEST_CASE("topic delete tries every name it is given") {
    cli_fixture f;
    f.run_ok({"topic", "create", "a"});
    f.run_ok({"topic", "create", "b"});
    auto r = f.run({"topic", "delete", "a", "missing", "b"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("missing") != std::string::npos);
    CHECK(r.out == "deleted topic a\ndeleted topic b\n");
    CHECK(f.run_ok({"topic", "list"}).out.empty());
  }

  // Waits (up to 10 s) until topic t holds a record: a produce started before has checked the
  // topic, connected and learnt the topic's metadata.
  void wait_for_first_record(cli_fixture & f) {
    for (int i = 0; i < 200 && f.run_ok({"consume", "t", "--from-beginning"}).out.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_FALSE(f.run_ok({"consume", "t", "--from-beginning"}).out.empty());
  }

  // Waits (up to 10 s) until process `pid` runs a thread named `name`: `sluice produce` starts
  // its producer's "sluice-producer" thread once it has checked the topic with the broker.
  void wait_for_thread(pid_t pid, const std::string& name) {
    auto running = [&] {
      std::error_code ec;
      for (const auto& t :
           std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        if (read_all(t.path() / "comm") == name + "\n") return true;
      }
      return false;
    };
    for (int i = 0; i < 200 && !running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_MESSAGE(running(), "no thread ", name, " in process ", pid);
  }

  TEST_CASE("produce interrupted mid-line stores the whole lines only") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    int in = -1;
    auto p = f.start_with_stdin_pipe({"produce", "t"}, in);
    const std::string first = "whole\n";
    const std::string partial = "unfinish";
    REQUIRE(::write(in, first.data(), first.size()) == static_cast<ssize_t>(first.size()));
    wait_for_first_record(f);
    REQUIRE(::write(in, partial.data(), partial.size()) == static_cast<ssize_t>(partial.size()));
    // Read (the pipe is empty again); then it waits for the rest of the line.
    int unread = 1;
    for (int i = 0; i < 600 && ::ioctl(in, FIONREAD, &unread) == 0 && unread > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(unread == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(p.pid, SIGINT);
    auto r = wait_for(p, std::chrono::seconds(30));
    ::close(in);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("8 bytes of an unfinished line not sent") != std::string::npos);
    CHECK(f.run_ok({"consume", "t", "--from-beginning"}).out == "whole\n");
  }

  TEST_CASE("produce waiting on a broker that went away gives up at a signal") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    int in = -1;
    auto p = f.start_with_stdin_pipe({"produce", "t", "--linger-ms", "0"}, in);
    REQUIRE(::write(in, "stored\n", 7) == 7);
    wait_for_first_record(f);  // the producer knows the topic now: the next send does not wait
    f.broker().kill();
    REQUIRE(::write(in, "lost\n", 5) == 5);
    ::close(in);  // the input ends: produce waits for the acknowledgement that cannot come
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const auto signalled = std::chrono::steady_clock::now();
    ::kill(p.pid, SIGINT);
    auto r = wait_for(p, std::chrono::seconds(20));  // the delivery timeout is 120 s
    CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(5));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("interrupted while waiting for acknowledgements") != std::string::npos,
                  r.err);
  }

  TEST_CASE(
      "produce waiting for a broker that went away before it knew the topic stops at a signal") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    int in = -1;
    auto p = f.start_with_stdin_pipe({"produce", "t"}, in);
    wait_for_thread(p.pid, "sluice-producer");  // the topic checked, the producer started
    f.broker().kill();
    REQUIRE(::write(in, "unsent\n", 7) == 7);  // its send() waits for the topic's metadata
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const auto signalled = std::chrono::steady_clock::now();
    ::kill(p.pid, SIGINT);
    auto r = wait_for(p, std::chrono::seconds(20));  // the metadata wait is 60 s
    ::close(in);
    CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(5));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("1 of 1 record") != std::string::npos, r.err);
  }

  TEST_CASE("perf produce against a broker that went away stops at a second signal") {
    cli_fixture f;
    f.run_ok({"topic", "create", "t"});
    auto p = f.start({"perf", "produce", "--topic", "t", "--duration", "60"}, "-perf");
    wait_for_first_record(f);  // sending
    f.broker().kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto signalled = std::chrono::steady_clock::now();
    ::kill(p.pid, SIGINT);  // stops sending; what is pending is still waited for...
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::kill(p.pid, SIGINT);                           // ...until this one
    auto r = wait_for(p, std::chrono::seconds(30));  // the delivery timeout is 120 s
    CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(10));
    CHECK(r.exit_code == 1);
  }

  TEST_CASE("--version names the tool and its version") {
    cli_fixture f;
    auto r = f.run_bare({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == fmt::format("sluice {}\n", software_version));
  }

  TEST_CASE("bad arguments exit 2 with one line naming the problem") {
    cli_fixture f;
    const std::vector<std::vector<std::string>> bad{
        {},
        {"topic"},
        {"topic", "create"},
        {"topic", "create", "t", "--partitions", "zero"},
        {"topic", "create", "t", "--config", "retention.ms"},
        {"topic", "alter", "t"},
        {"produce", "t", "--header", "novalue"},
        {"produce", "t", "--acks", "2"},
        {"produce", "t", "--max-in-flight", "11"},
        {"produce", "t", "--file", "/nonexistent/records.txt"},
        {"consume", "t", "--from-time", "yesterday"},
        {"consume", "t", "--from-time", "1969-12-31"},
        {"consume", "t", "--count", "0"},
        {"consume", "t", "--offset", "99999999999999999999"},
        {"perf", "produce", "--topic", "t", "--duration", "0"},
        {"consume", "t", "--from-beginning", "--offset", "3"},
        {"consume", "t", "--format", "xml"},
        {"perf", "produce", "--topic", "t"},
        {"perf", "produce", "--topic", "t", "--num-records", "5", "--plot", "x.gif"},
        {"perf", "produce", "--topic", "t", "--num-records", "5", "--throughput", "nan"},
        {"perf", "produce", "--topic", "t", "--num-records", "5", "--throughput", "1e-300"},
        {"perf", "produce", "--topic", "t", "--num-records", "5", "--throughput", "0"},
        {"topic", "list", "--brokers", "host:notaport"},
        {"topic", "list", "--brokers", "::1"},
        {"frobnicate"},
    };
    for (const auto& args : bad) {
      std::string joined;
      for (const auto& a : args) joined += a + " ";
      CAPTURE(joined);
      auto r = f.run_bare(args);
      CHECK(r.exit_code == 2);
      CHECK(r.err.starts_with("sluice: "));
      CHECK(lines_of(r.err).size() == 1);
      CHECK(r.out.empty());
    }
  }

  TEST_CASE("--help works on every command and documents the exit codes") {
    cli_fixture f;
    auto top = f.run_bare({"--help"});
    CHECK(top.exit_code == 0);
    CHECK(top.out.find("Exit codes:") != std::string::npos);
    CHECK(top.out.find("3  cannot connect to any broker") != std::string::npos);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"topic", "create", "--help"},
          {"produce", "--help"},
          {"consume", "--help"},
          {"perf", "e2e", "--help"},
          {"log", "--help"}}) {
      auto r = f.run_bare(args);
      CHECK(r.exit_code == 0);
      CHECK(r.out.find("--") != std::string::npos);
    }
  }

  TEST_CASE("an unknown topic exits 1 with the broker's error") {
    cli_fixture f;
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"topic", "describe", "nope"},
          {"topic", "delete", "nope"},
          {"consume", "nope", "--from-beginning"},
          {"produce", "nope"},
          {"perf", "produce", "--topic", "nope", "--num-records", "1"}}) {
      auto r = f.run(args, "x\n");
      CAPTURE(args.front());
      CHECK(r.exit_code == 1);
      CHECK(r.err.starts_with("sluice: "));
      CHECK(r.err.find("nope") != std::string::npos);
      CHECK(r.err.find("unknown topic") != std::string::npos);
    }
  }

  TEST_CASE("no broker listening exits 3") {
    cli_fixture f;
    const auto address = f.broker().address();
    f.broker().stop();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"topic", "list"},
          {"consume", "events"},
          {"produce", "events"},
          {"perf", "produce", "--topic", "events", "--num-records", "1"}}) {
      auto with_brokers = args;
      with_brokers.insert(with_brokers.end(), {"--brokers", address});
      auto r = f.run_bare(with_brokers);
      CAPTURE(args.front());
      CHECK(r.exit_code == 3);
      CHECK(r.err.find(address) != std::string::npos);
    }
  }

  TEST_CASE("SLUICE_BROKERS is used when --brokers is not given") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    ::setenv("SLUICE_BROKERS", f.broker().address().c_str(), 1);
    auto r = f.run_bare({"topic", "list"});
    ::unsetenv("SLUICE_BROKERS");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "events\n");
  }

  TEST_CASE("--brokers before the command works too, and a flag beats SLUICE_BROKERS") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    auto before = f.run_bare({"--brokers", f.broker().address(), "topic", "list"});
    CHECK_MESSAGE(before.exit_code == 0, before.err);
    CHECK(before.out == "events\n");

    ::setenv("SLUICE_BROKERS", "127.0.0.1:1", 1);  // nothing listens there
    auto flag_wins = f.run_bare({"--brokers", f.broker().address(), "topic", "list"});
    auto env_used = f.run_bare({"topic", "list"});
    ::setenv("SLUICE_BROKERS", "host:notaport", 1);
    auto bad_env = f.run_bare({"topic", "list"});
    ::setenv("SLUICE_BROKERS", "::1", 1);  // IPv6 without brackets
    auto bare_ipv6 = f.run_bare({"topic", "list"});
    ::unsetenv("SLUICE_BROKERS");
    CHECK_MESSAGE(flag_wins.exit_code == 0, flag_wins.err);
    CHECK(flag_wins.out == "events\n");
    CHECK(env_used.exit_code == 3);
    CHECK(env_used.err.find("127.0.0.1:1") != std::string::npos);
    CHECK(bad_env.exit_code == 2);
    CHECK(bad_env.err.find("SLUICE_BROKERS") != std::string::npos);
    CHECK(bare_ipv6.exit_code == 2);
    CHECK_MESSAGE(bare_ipv6.err.find("[::1]:9190") != std::string::npos, bare_ipv6.err);
  }

  TEST_CASE("sluice log runs sluice-log on a partition directory") {
    cli_fixture f;
    f.run_ok({"topic", "create", "events"});
    f.run_ok({"produce", "events"}, "a\nb\n");
    const auto partition_dir = f.broker().data_dir() / "events-0";
    auto verified = f.run_bare({"log", "verify", partition_dir.string()});
    CHECK_MESSAGE(verified.exit_code == 0, verified.out, verified.err);
    auto dumped = f.run_bare({"log", "dump", partition_dir.string(), "--records"});
    CHECK(dumped.exit_code == 0);
    CHECK(dumped.out.find("batch") != std::string::npos);
    auto missing = f.run_bare({"log", "verify", (f.dir() / "nope").string()});
    CHECK(missing.exit_code == 2);
    // It needs no broker, so a malformed SLUICE_BROKERS is none of its business.
    ::setenv("SLUICE_BROKERS", "x:y", 1);
    auto bad_env = f.run_bare({"log", "verify", partition_dir.string()});
    ::unsetenv("SLUICE_BROKERS");
    CHECK_MESSAGE(bad_env.exit_code == 0, bad_env.err);
  }
}

}  // namespace sluice::testing
