#pragma once
// The benchmark's working directory: a fresh, uniquely named directory under a parent chosen by
// --dir (by default ./bench-data, on the filesystem of the build). Everything in it is deleted
// when the scratch_dir is destroyed, and so is the parent if this object created it.

#include <filesystem>

namespace sluice::bench {

class scratch_dir {
 public:
  // Creates <parent>/sluice-bench-<pid>-<n>. Throws std::filesystem::filesystem_error (with the
  // path) when the directory cannot be created.
  explicit scratch_dir(const std::filesystem::path& parent);
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path parent_;
  std::filesystem::path path_;
  bool created_parent_ = false;
};

// The default parent of scratch directories: ./bench-data.
[[nodiscard]] std::filesystem::path default_bench_parent();

}  // namespace sluice::bench
