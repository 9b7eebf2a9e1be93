#pragma once
// Helpers for the I/O backend tests: a temporary directory removed at the end of the test,
// files opened in it, deterministic byte patterns, and the two real backends as doctest types.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "segment/io/backend.h"

namespace sluice::io::test {

class temp_dir {
 public:
  explicit temp_dir(const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
    std::string pattern = (parent / "sluice-io-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~temp_dir() { std::filesystem::remove_all(path_); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A file descriptor closed at the end of the scope.
class file {
 public:
  file(const std::filesystem::path& path, int flags) : fd_(::open(path.c_str(), flags, 0644)) {
    REQUIRE(fd_ >= 0);
  }
  explicit file(int open_fd) : fd_(open_fd) { REQUIRE(fd_ >= 0); }  // takes it over
  ~file() { ::close(fd_); }
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

// `size` bytes that differ from those of other seeds.
// Whether e is the system error `err` (an errno value).
inline bool is_errno(const error& e, int err) {
  return e.code == boost::system::error_code(err, boost::system::system_category());
}

inline std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> bytes(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : bytes) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::byte>(x >> 24);
  }
  return bytes;
}

// The whole file, read with plain pread.
inline std::vector<std::byte> contents(int fd) {
  std::vector<std::byte> out(static_cast<std::size_t>(::lseek(fd, 0, SEEK_END)));
  REQUIRE(::pread(fd, out.data(), out.size(), 0) == static_cast<ssize_t>(out.size()));
  return out;
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

struct uring_kind {
  static constexpr backend_kind kind = backend_kind::io_uring;
};
struct pwrite_kind {
  static constexpr backend_kind kind = backend_kind::pwrite;
};
#define SLUICE_REAL_BACKENDS ::sluice::io::test::uring_kind, ::sluice::io::test::pwrite_kind

}  // namespace sluice::io::test
