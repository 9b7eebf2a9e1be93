#include "admin/cli/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>

#include "admin/cli/topic_format.h"

namespace sluice::cli {

namespace {

constexpr auto redraw_every = std::chrono::milliseconds(100);

std::string bar(double fraction, std::size_t width) {
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(width));
  return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
}

}  // namespace

std::string format_progress(std::uint64_t done_bytes, std::uint64_t total_bytes,
                            std::uint64_t records, std::chrono::nanoseconds elapsed,
                            std::size_t bar_width) {
  const double seconds = std::max(std::chrono::duration<double>(elapsed).count(), 1e-9);
  const auto rate = static_cast<std::uint64_t>(static_cast<double>(records) / seconds);
  if (total_bytes == 0) {
    return fmt::format("{} read  {} records  {} rec/s", format_bytes(done_bytes), records, rate);
  }
  const double fraction =
      std::min(1.0, static_cast<double>(done_bytes) / static_cast<double>(total_bytes));
  std::string frame =
      fmt::format("{} {:3.0f}%  {}/{}  {} rec/s", bar(fraction, bar_width), fraction * 100,
                  format_bytes(done_bytes), format_bytes(total_bytes), rate);
  if (fraction > 0 && fraction < 1) {
    frame += fmt::format("  ETA {:.0f}s", seconds * (1 - fraction) / fraction);
  }
  return frame;
}

progress_bar::progress_bar(std::FILE* out, std::uint64_t total_bytes)
    : out_(out), total_bytes_(total_bytes) {}

void progress_bar::update(std::uint64_t done_bytes, std::uint64_t records) {
  if (clock::now() - last_draw_ < redraw_every) return;
  draw(done_bytes, records);
}

void progress_bar::finish(std::uint64_t done_bytes, std::uint64_t records) {
  draw(done_bytes, records);
  std::fputc('\n', out_);
}

void progress_bar::draw(std::uint64_t done_bytes, std::uint64_t records) {
  last_draw_ = clock::now();
  // "\x1b[K" clears what a longer previous frame left to the right.
  fmt::print(out_, "\r{}\x1b[K",
             format_progress(done_bytes, total_bytes_, records, last_draw_ - start_));
  std::fflush(out_);
}

}  // namespace sluice::cli
