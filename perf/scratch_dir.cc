#include "perf/scratch_dir.h"

#include <unistd.h>

#include <random>
#include <string>
#include <system_error>

namespace sluice::bench {
namespace fs = std::filesystem;

scratch_dir::scratch_dir(const fs::path& parent) : parent_(fs::absolute(parent)) {
  created_parent_ = fs::create_directories(parent_);
  std::random_device rd;
  for (;;) {
    path_ = parent_ / ("sluice-bench-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directory(path_)) return;  // false: the name is taken, draw another
  }
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (created_parent_) fs::remove(parent_, ec);  // only if empty: others may be using it
}

fs::path default_bench_parent() {
  return fs::current_path() / "bench-data";
}

}  // namespace sluice::bench
