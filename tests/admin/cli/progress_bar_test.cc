#include "admin/cli/progress_bar.h"

#include <doctest/doctest.h>

namespace sluice::cli {

using namespace std::chrono_literals;

TEST_CASE("a frame shows the bar, percentage, bytes, rate and time left") {
  const auto frame = format_progress(512, 1024, 100, 1s, 10);
  CHECK(frame == "[#####-----]  50%  512 B/1.0 KiB  100 rec/s  ETA 1s");
}

TEST_CASE("a finished frame has a full bar and no ETA") {
  CHECK(format_progress(2048, 2048, 10, 2s, 4) == "[####] 100%  2.0 KiB/2.0 KiB  5 rec/s");
}

TEST_CASE("without a known size there is no bar") {
  CHECK(format_progress(3000, 0, 30, 3s) == "2.9 KiB read  30 records  10 rec/s");
}

}  // namespace sluice::cli
