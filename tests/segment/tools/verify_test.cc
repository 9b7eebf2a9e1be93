// sluice-log verify: passes on what partition_log writes, names the first bad byte otherwise,
// and never changes a file.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>

#include "sample_log.h"
#include "tool_runner.h"

namespace sluice::test {

namespace {

log_config small_segments() {
  log_config cfg = sample_config();
  cfg.segment_bytes = 1024;  // three sample batches a segment
  return cfg;
}

}  // namespace

TEST_CASE("verify passes on a cleanly closed log and sums it up in one line") {
  sample_log log(5);
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  CHECK_MESSAGE(out.text.starts_with("ok: "), out.text);
  CHECK(out.text.find("1 segment, 5 batches, 50 records, offsets 0 to 49") != std::string::npos);
  CHECK(count_of(out.text, "\n") == 1);
}

TEST_CASE("verify passes on a log of many segments, checking every index entry") {
  sample_log log(12, small_segments());
  REQUIRE(std::distance(std::filesystem::directory_iterator(log.dir()),
                        std::filesystem::directory_iterator()) > 6);
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK_MESSAGE(out.exit_code == 0, out.text);
  CHECK(out.text.find("12 batches, 120 records, offsets 0 to 119") != std::string::npos);
}

TEST_CASE("verify names the offset and position of a batch with one flipped byte") {
  sample_log log(5);
  flip_byte(log.file(0, "log"), log.positions[2] + 80);  // inside the 3rd batch's records
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(out.text.find(fmt::format("00000000000000000000.log: offset 20, position {}: "
                                          "CRC mismatch",
                                          log.positions[2])) != std::string::npos,
                out.text);
}

TEST_CASE("verify reports a torn tail with the offset and position of the partial batch") {
  sample_log log(5);
  std::filesystem::resize_file(log.file(0, "log"), log.positions[4] + log.sizes[4] - 7);
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(out.text.find(fmt::format("offset 40, position {}: torn tail", log.positions[4])) !=
                    std::string::npos,
                out.text);
}

TEST_CASE("verify calls a batch cut short before the last segment damage, not a torn tail") {
  sample_log log(12, small_segments());
  write_be32(log.file(0, "log"), log.positions[1] + 8, 0x10000000);  // batch 1's length field
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(out.text.find(fmt::format("offset 10, position {}: cut short before the last "
                                          "segment (damage, not a crash's torn tail)",
                                          log.positions[1])) != std::string::npos,
                out.text);
}

TEST_CASE("verify finds a gap where a middle segment is missing") {
  sample_log log(12, small_segments());
  auto out = run_sluice_log("dump " + quoted(log.dir()));
  REQUIRE(out.exit_code == 0);
  std::filesystem::remove(log.file(30, "log"));  // sample batches are 3 to a segment
  out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(out.text.find("00000000000000000060.log: offset 30, position 0: the segment "
                              "starts at offset 60 but the one before it ends at offset 30") !=
                    std::string::npos,
                out.text);
}

TEST_CASE("verify finds an index entry that does not point at a batch start") {
  sample_log log(5);
  // Entry 0 (the 2nd batch): move its position 1 byte into that batch.
  write_be32(log.file(0, "index"), 4, static_cast<std::uint32_t>(log.positions[1] + 1));
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(out.text.find(fmt::format("00000000000000000000.index: offset 19, position {}: "
                                          "entry 0 points inside a batch",
                                          log.positions[1] + 1)) != std::string::npos,
                out.text);
}

TEST_CASE("verify finds an index entry whose offset is not its batch's last offset") {
  sample_log log(5);
  write_be32(log.file(0, "index"), 0, 18);  // entry 0: relative offset 18 instead of 19
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(
      out.text.find("entry 0 says offset 18 but the batch at position") != std::string::npos,
      out.text);
}

TEST_CASE("verify finds a checkpoint whose recovery point is past the end of the log") {
  sample_log log(5);
  std::filesystem::resize_file(log.file(0, "log"), log.positions[4]);  // the last batch is gone
  std::filesystem::resize_file(log.file(0, "index"), 3 * 8);
  std::filesystem::resize_file(log.file(0, "timeindex"), 3 * 12);
  auto out = run_sluice_log("verify " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK_MESSAGE(out.text.find("checkpoint: offset 40: recovery point 50 is past the log end "
                              "offset 40") != std::string::npos,
                out.text);
}

TEST_CASE("verify and dump change no file, even in a log left by a crash") {
  log_fixture f;
  f.open(sample_config());
  for (int b = 0; b < 4; ++b) REQUIRE(f.append(text_batch(b)).has_value());
  f.crash();  // indexes stay preallocated, the checkpoint says not clean
  const dir_snapshot before = snapshot_of(f.log_dir());
  auto verified = run_sluice_log("verify " + quoted(f.log_dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK(verified.text.find("checkpoint not clean") != std::string::npos);
  CHECK(run_sluice_log("dump --records " + quoted(f.log_dir())).exit_code == 0);
  CHECK(snapshot_of(f.log_dir()) == before);
}

// A broker keeps zeros ahead of small durable appends (segment/zero_tail.h) and cuts them off
// when it closes; a crash leaves them, up to a page boundary, after the last batch.
TEST_CASE("verify and dump pass on a log with zeros after its last batch, to a page boundary") {
  sample_log log(5);
  const auto path = log.file(0, "log");
  const auto end = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, (end / 4096 + 3) * 4096);
  auto verified = run_sluice_log("verify " + quoted(log.dir()));
  CHECK_MESSAGE(verified.exit_code == 0, verified.text);
  CHECK(verified.text.find("5 batches, 50 records, offsets 0 to 49") != std::string::npos);
  auto dumped = run_sluice_log("dump " + quoted(log.dir()));
  CHECK_MESSAGE(dumped.exit_code == 0, dumped.text);
  // Not to a page boundary, the same zeros are a torn batch.
  std::filesystem::resize_file(path, end + 100);
  CHECK(run_sluice_log("verify " + quoted(log.dir())).exit_code == 1);
}

}  // namespace sluice::test
