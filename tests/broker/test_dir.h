#pragma once
// A fresh directory for one test, removed afterwards.

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace sluice::test {

class scratch_dir {
 public:
  scratch_dir() {
    static std::mt19937_64 rng{std::random_device{}()};
    path_ = std::filesystem::temp_directory_path() /
            ("sluice-broker-test-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sluice::test
