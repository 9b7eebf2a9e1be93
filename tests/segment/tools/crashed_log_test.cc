// sluice-log verify and dump over a log a crash left: past the checkpoint's recovery point the
// last segment may end in a torn write or in a recycled file's old bytes, which recovery cuts.
// Neither is damage; both tools say where recovery will cut, as recovery then does.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "protocol/record_batch_format.h"
#include "sample_log.h"
#include "tool_runner.h"

namespace sluice::test {

namespace {

namespace fs = std::filesystem;

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

fs::path segment_log(const log_fixture& f, std::int64_t base) {
  return f.log_dir() / fmt::format("{:020}.log", base);
}

constexpr int batches_per_segment = 3;  // with segment.bytes 1024
constexpr int batches_written = 7;

// Segments 0 (offsets 0-29), 30 (30-59) and 60 (60-69).
void crash_with_three_segments(log_fixture& f) {
  log_config cfg = sample_config();
  cfg.segment_bytes = 1024;
  f.open(cfg);
  for (int b = 0; b < batches_written; ++b) REQUIRE(f.append(text_batch(b)).has_value());
  REQUIRE(f.log->segment_bases().size() == 3);
  REQUIRE(f.log->segment_bases().back() == offset{60});
  f.crash();
}

// The batches of segment `base`, without the zeros a durable log keeps ahead of its appends.
std::string own_batches(const log_fixture& f, std::int64_t base) {
  std::size_t bytes = 0;
  const int first = static_cast<int>(base) / records_per_batch;
  for (int b = first; b < std::min(first + batches_per_segment, batches_written); ++b) {
    bytes += text_batch(b).size();
  }
  return bytes_of(segment_log(f, base)).substr(0, bytes);
}

// What segment `base`'s file holds when it was a deleted segment's file (offsets 0 to 59),
// written over in place from its start (partition_log::recycle_segments), and the crash came
// before a roll or a close cut the old bytes off: its own batches, then the old file's bytes
// from `skew` past the same length (0: the old batches line up with the new ones, whole and
// with good CRCs).
void recycle_old_file(const log_fixture& f, std::int64_t base, std::size_t skew) {
  const std::string old = own_batches(f, 0) + own_batches(f, 30);
  const std::string own = own_batches(f, base);
  REQUIRE(old.size() > own.size() + skew + batch_header_size);
  write_bytes(segment_log(f, base), own + old.substr(own.size() + skew));
}

// Recovery's own verdict, by opening the log as a broker does.
std::optional<offset> recovery_cut(log_fixture& f) {
  f.open(f.config);
  return f.log->last_recovery().cut_at;
}

}  // namespace

TEST_CASE("verify and dump take a crashed log's torn last batch for what recovery will cut") {
  log_fixture f;
  crash_with_three_segments(f);
  // Batch 6 written but for its last 7 bytes; no zeros ahead were written yet.
  fs::resize_file(segment_log(f, 60), text_batch(6).size() - 7);

  auto verified = run_sluice_log("verify " + quoted(f.log_dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK_MESSAGE(verified.text.find("offsets 0 to 59") != std::string::npos, verified.text);
  CHECK_MESSAGE(verified.text.find("recovery will cut the log at offset 60 (position 0 of "
                                   "00000000000000000060.log): torn tail") != std::string::npos,
                verified.text);
  auto dumped = run_sluice_log("dump " + quoted(f.log_dir()));
  CHECK_MESSAGE(dumped.exit_code == 0, dumped.text);
  CHECK(dumped.text.find("recovery will cut the log at offset 60") != std::string::npos);
  CHECK(recovery_cut(f) == offset{60});
}

TEST_CASE("verify and dump stop at a crashed recycled segment's old batches, not listing them") {
  log_fixture f;
  crash_with_three_segments(f);
  recycle_old_file(f, 60, 0);

  auto verified = run_sluice_log("verify " + quoted(f.log_dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK(verified.text.find("7 batches, 70 records, offsets 0 to 69") != std::string::npos);
  CHECK_MESSAGE(verified.text.find("recovery will cut the log at offset 70") != std::string::npos,
                verified.text);
  CHECK(verified.text.find("the batch starts at offset 10 where 70 was expected") !=
        std::string::npos);
  auto dumped = run_sluice_log("dump " + quoted(f.log_dir()));
  CHECK_MESSAGE(dumped.exit_code == 0, dumped.text);
  CHECK(count_of(dumped.text, "batch base_offset=") == 7);  // the old ones are not the log's
  CHECK(recovery_cut(f) == offset{70});
}

TEST_CASE("verify takes old bytes past a recycled segment's batches, mid-batch, for its end") {
  log_fixture f;
  crash_with_three_segments(f);
  recycle_old_file(f, 60, 37);
  auto verified = run_sluice_log("verify " + quoted(f.log_dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK_MESSAGE(verified.text.find("recovery will cut the log at offset 70") != std::string::npos,
                verified.text);
  CHECK(recovery_cut(f) == offset{70});
}

// A roll cuts a recycled file's old bytes off the segment it ends; a crash can come first.
TEST_CASE("verify takes old bytes left past an earlier segment's batches as nothing lost") {
  log_fixture f;
  crash_with_three_segments(f);
  recycle_old_file(f, 30, 0);
  auto verified = run_sluice_log("verify " + quoted(f.log_dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK(verified.text.find("offsets 0 to 69") != std::string::npos);
  CHECK_MESSAGE(
      verified.text.find("recovery will cut the bytes past offset 60") != std::string::npos,
      verified.text);
  CHECK_FALSE(recovery_cut(f).has_value());
  CHECK(f.log->log_end_offset() == offset{70});
}

TEST_CASE("in a cleanly closed log the same old bytes are damage") {
  sample_log log(3);
  const auto file = log.file(0, "log");
  const std::string own = bytes_of(file);
  write_bytes(file, own + own.substr(0, log.sizes[0]));  // offsets 0-9 again after 29
  auto verified = run_sluice_log("verify " + quoted(log.dir()));
  CHECK_MESSAGE(verified.exit_code == 1, verified.text);
  CHECK(verified.text.find("corrupt: ") != std::string::npos);
  auto dumped = run_sluice_log("dump " + quoted(log.dir()));
  CHECK(dumped.exit_code == 1);
  CHECK(dumped.text.find("the batch starts at offset 0 where 30 was expected") !=
        std::string::npos);
}

}  // namespace sluice::test
