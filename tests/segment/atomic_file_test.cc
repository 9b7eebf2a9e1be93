// replace_file_atomically: the new contents or the old, never a mix, and no temp file left
// behind when a step fails (on a full disk its blocks may be what the next write needs).

#include "segment/atomic_file.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "log_fixture.h"

namespace sluice::test {
namespace {

byte_buffer bytes_of(const std::string& s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return byte_buffer(p, p + s.size());
}

// Writes past `limit` bytes of any file fail with EFBIG while it is in scope, as on a disk
// that fills up mid-write (SIGXFSZ ignored, so the write returns the error).
class file_size_limit {
 public:
  explicit file_size_limit(rlim_t limit) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lowered = saved_;
    lowered.rlim_cur = limit;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lowered) == 0);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  file_size_limit(const file_size_limit&) = delete;
  file_size_limit& operator=(const file_size_limit&) = delete;

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("replace_file_atomically replaces the contents whole") {
  temp_dir dir;
  const auto path = dir.path() / "meta";
  REQUIRE(replace_file_atomically(path, bytes_of("first")).has_value());
  REQUIRE(replace_file_atomically(path, bytes_of("second, longer")).has_value());
  CHECK(read_whole_file(path).value() == bytes_of("second, longer"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "meta.tmp"));
}

TEST_CASE("replace_file_atomically takes a bare file name, in the working directory") {
  temp_dir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto replaced = replace_file_atomically("ready", bytes_of("9190\n"));
  std::filesystem::current_path(cwd);
  REQUIRE_MESSAGE(replaced.has_value(), replaced.error().message());
  CHECK(read_whole_file(dir.path() / "ready").value() == bytes_of("9190\n"));
}

TEST_CASE("a write that fails leaves the old file and no temp file") {
  temp_dir dir;
  const auto path = dir.path() / "meta";
  REQUIRE(replace_file_atomically(path, bytes_of("old")).has_value());
  result<void> r;
  {
    file_size_limit full(16);
    r = replace_file_atomically(path, bytes_of(std::string(100, 'x')));
  }
  REQUIRE_FALSE(r.has_value());
  CHECK_MESSAGE(
      r.error().message().find("write " + (dir.path() / "meta.tmp").string()) != std::string::npos,
      r.error().message());
  CHECK(read_whole_file(path).value() == bytes_of("old"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "meta.tmp"));
}

TEST_CASE("a rename that fails leaves the old entry and no temp file") {
  temp_dir dir;
  const auto path = dir.path() / "meta";
  std::filesystem::create_directories(path / "occupied");  // a non-empty directory: no rename
  auto r = replace_file_atomically(path, bytes_of("new"));
  REQUIRE_FALSE(r.has_value());
  CHECK_MESSAGE(r.error().message().find("rename") != std::string::npos, r.error().message());
  CHECK(std::filesystem::is_directory(path / "occupied"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "meta.tmp"));
}

}  // namespace sluice::test
