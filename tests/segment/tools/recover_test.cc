// sluice-log recover: runs partition_log's recovery and reports it.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include "sample_log.h"
#include "tool_runner.h"

namespace sluice::test {

TEST_CASE("recover cuts a torn tail, reports the offset, and verify then passes") {
  sample_log log(5);
  std::filesystem::resize_file(log.file(0, "log"), log.positions[4] + 20);
  REQUIRE(run_sluice_log("verify " + quoted(log.dir())).exit_code == 1);
  auto out = run_sluice_log("recover " + quoted(log.dir()));
  CHECK_MESSAGE(out.exit_code == 0, out.text);
  CHECK_MESSAGE(out.text.find(fmt::format("cut: at offset 40, 20 bytes truncated: "
                                          "00000000000000000000.log at position {}",
                                          log.positions[4])) != std::string::npos,
                out.text);
  CHECK(out.text.find("log end offset: 40") != std::string::npos);
  CHECK(out.text.find("closed cleanly") != std::string::npos);
  CHECK(std::filesystem::file_size(log.file(0, "log")) == log.positions[4]);
  auto verified = run_sluice_log("verify " + quoted(log.dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK(verified.text.find("offsets 0 to 39") != std::string::npos);
}

TEST_CASE("recover cuts the zeros a crash left after the last batch off, calling nothing cut") {
  sample_log log(5);
  const auto path = log.file(0, "log");
  const auto end = std::filesystem::file_size(path);
  const auto padded = (end / 4096 + 2) * 4096;  // zeros to a page boundary (segment/zero_tail.h)
  std::filesystem::resize_file(path, padded);
  auto out = run_sluice_log("recover " + quoted(log.dir()));
  CHECK_MESSAGE(out.exit_code == 0, out.text);
  CHECK_MESSAGE(out.text.find(fmt::format("cut: nothing ({} bytes of zeros after the last batch "
                                          "cut off)",
                                          padded - end)) != std::string::npos,
                out.text);
  CHECK(out.text.find("log end offset: 50") != std::string::npos);
  CHECK(std::filesystem::file_size(path) == end);
}

TEST_CASE("recover of a cleanly closed log scans nothing and cuts nothing") {
  sample_log log(3);
  auto out = run_sluice_log("recover " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  CHECK(out.text.find("clean shutdown: nothing re-scanned") != std::string::npos);
  CHECK(out.text.find("cut: nothing") != std::string::npos);
  CHECK(out.text.find("log end offset: 30") != std::string::npos);
}

TEST_CASE("recover after a crash re-scans past the recovery point and keeps every batch") {
  log_fixture f;
  f.open(sample_config());
  for (int b = 0; b < 4; ++b) REQUIRE(f.append(text_batch(b)).has_value());
  f.crash();
  auto out = run_sluice_log("recover " + quoted(f.log_dir()));
  CHECK_MESSAGE(out.exit_code == 0, out.text);
  CHECK(out.text.find("no clean shutdown: re-scanned 4 batches") != std::string::npos);
  CHECK(out.text.find("log end offset: 40") != std::string::npos);
  CHECK(run_sluice_log("verify " + quoted(f.log_dir())).exit_code == 0);
}

TEST_CASE("recover --full cuts at a corrupt batch that a clean checkpoint would hide") {
  sample_log log(5);
  flip_byte(log.file(0, "log"), log.positions[2] + 80);
  auto trusting = run_sluice_log("recover " + quoted(log.dir()));
  CHECK(trusting.exit_code == 0);
  CHECK(trusting.text.find("cut: nothing") != std::string::npos);
  REQUIRE(run_sluice_log("verify " + quoted(log.dir())).exit_code == 1);

  auto out = run_sluice_log("recover --full " + quoted(log.dir()));
  CHECK_MESSAGE(out.exit_code == 0, out.text);
  CHECK_MESSAGE(out.text.find("cut: at offset 20") != std::string::npos, out.text);
  CHECK(out.text.find("CRC mismatch") != std::string::npos);
  CHECK(out.text.find("log end offset: 20") != std::string::npos);
  CHECK(run_sluice_log("verify " + quoted(log.dir())).exit_code == 0);
}

TEST_CASE("recover refuses a partition of a data directory a running broker has locked") {
  sample_log log(3);
  const auto lock_path = std::filesystem::absolute(log.dir()).parent_path() / ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);  // as sluiced holds it while it runs
  const auto before = snapshot_of(log.dir());
  auto refused = run_sluice_log("recover --full " + quoted(log.dir()));
  CHECK(refused.exit_code == 2);
  CHECK_MESSAGE(refused.text.find("belongs to a running sluiced") != std::string::npos,
                refused.text);
  CHECK(snapshot_of(log.dir()) == before);  // not even the checkpoint was touched
  ::close(fd);
  auto out = run_sluice_log("recover " + quoted(log.dir()));
  CHECK_MESSAGE(out.exit_code == 0, out.text);
}

TEST_CASE("recover refuses a directory without segments instead of creating a log") {
  temp_dir dir;
  auto out = run_sluice_log("recover " + quoted(dir.path()));
  CHECK(out.exit_code == 2);
  CHECK(out.text.find("not a partition directory: no .log files") != std::string::npos);
  CHECK(std::filesystem::is_empty(dir.path()));
}

}  // namespace sluice::test
