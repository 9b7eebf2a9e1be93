#pragma once
// The progress bar `sluice produce --file` draws on stderr: how much of the file was read, the
// rate, and an estimate of the time left. Redrawn in place ("\r") at most 10 times a second.
//
// (No C++ progress-bar library is packaged in Debian; this is the ~50 lines it takes.)

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace sluice::cli {

// One frame, without "\r" or newline: "[#####-----]  52%  12.3 MiB/23.6 MiB  8312 rec/s  ETA 2s".
// total_bytes 0: the size is unknown and no bar or ETA is drawn.
[[nodiscard]] std::string format_progress(std::uint64_t done_bytes, std::uint64_t total_bytes,
                                          std::uint64_t records, std::chrono::nanoseconds elapsed,
                                          std::size_t bar_width = 30);

class progress_bar {
 public:
  progress_bar(std::FILE* out, std::uint64_t total_bytes);

  // Redraws when 100 ms passed since the last frame.
  void update(std::uint64_t done_bytes, std::uint64_t records);
  // The last frame and a newline.
  void finish(std::uint64_t done_bytes, std::uint64_t records);

 private:
  using clock = std::chrono::steady_clock;
  void draw(std::uint64_t done_bytes, std::uint64_t records);

  std::FILE* out_;
  std::uint64_t total_bytes_;
  clock::time_point start_ = clock::now();
  clock::time_point last_draw_{};
};

}  // namespace sluice::cli
