// sluice-log dump over logs written by partition_log.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>

#include "protocol/record_batch_builder.h"
#include "sample_log.h"
#include "tool_runner.h"

namespace sluice::test {

TEST_CASE("dump lists every batch with its offsets, position and crc=ok") {
  sample_log log(5);
  auto out = run_sluice_log("dump " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  for (int b = 0; b < 5; ++b) {
    CHECK_MESSAGE(out.text.find(fmt::format("batch base_offset={} last_offset={} count=10 "
                                            "position={} size={} ",
                                            b * 10, b * 10 + 9, log.positions[b], log.sizes[b])) !=
                      std::string::npos,
                  out.text);
  }
  CHECK(count_of(out.text, "crc=ok") == 5);
  CHECK(count_of(out.text, "crc=BAD") == 0);
  CHECK(count_of(out.text, "codec=none") == 5);
}

TEST_CASE("dump prints the checkpoint and how many entries each index holds") {
  sample_log log(5);
  auto out = run_sluice_log("dump " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  CHECK_MESSAGE(out.text.find("checkpoint: clean=1 log_start_offset=0 recovery_point=50 ") !=
                    std::string::npos,
                out.text);
  // With index.interval.bytes = 100 every batch after the first gets an entry.
  CHECK(out.text.find("index 00000000000000000000.index: 4 entries (32 bytes)") !=
        std::string::npos);
  CHECK(out.text.find("timeindex 00000000000000000000.timeindex: 4 entries (48 bytes)") !=
        std::string::npos);
}

TEST_CASE("dump --records shows each record's offset, key and value") {
  sample_log log(3);
  auto out = run_sluice_log("dump --records " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  CHECK(count_of(out.text, "  record offset=") == 30);
  CHECK_MESSAGE(out.text.find("record offset=21 timestamp=1700000000201 key=\"key-2-1\" "
                              "value=\"value-2-1\" headers={}") != std::string::npos,
                out.text);
}

TEST_CASE("dump --records decompresses zstd and shows nulls, binary values and headers") {
  log_fixture f;
  f.open();
  record_batch_builder builder({.codec = compression::zstd});
  const byte_buffer binary{std::byte{0x00}, std::byte{0xff}, std::byte{0x10}};
  const std::vector<record_header> headers{{"trace", byte_buffer{std::byte{'a'}}}, {"empty", {}}};
  builder.add(5, std::nullopt, as_bytes("zstd text"), headers);
  builder.add(6, as_bytes("k"), byte_span(binary));
  builder.add(7, as_bytes("tomb"), std::nullopt);
  REQUIRE(f.append(builder.build()).has_value());
  f.close();
  auto out = run_sluice_log("dump --records " + quoted(f.log_dir()));
  CHECK(out.exit_code == 0);
  CHECK(out.text.find("codec=zstd") != std::string::npos);
  CHECK_MESSAGE(out.text.find("record offset=0 timestamp=5 key=null value=\"zstd text\" "
                              "headers={\"trace\": \"a\", \"empty\": null}") != std::string::npos,
                out.text);
  CHECK(out.text.find("record offset=1 timestamp=6 key=\"k\" value=0x00ff10") != std::string::npos);
  CHECK(out.text.find("record offset=2 timestamp=7 key=\"tomb\" value=null") != std::string::npos);
}

TEST_CASE("dump --from-offset starts at the batch holding that offset") {
  sample_log log(5);
  auto out = run_sluice_log("dump --records --from-offset 25 " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  CHECK(count_of(out.text, "batch base_offset=") == 3);
  CHECK(out.text.find("batch base_offset=20 ") != std::string::npos);
  CHECK(out.text.find("record offset=24 ") == std::string::npos);
  CHECK(out.text.find("record offset=25 ") != std::string::npos);
  CHECK(count_of(out.text, "  record offset=") == 25);
}

TEST_CASE("dump --json prints one object per line with the batch fields") {
  sample_log log(2);
  auto out = run_sluice_log_stdout_only("dump --json --records " + quoted(log.dir()));
  CHECK(out.exit_code == 0);
  CHECK(out.text.find(R"({"type":"checkpoint","present":true,"clean":true,)") != std::string::npos);
  CHECK(out.text.find(fmt::format(R"({{"type":"batch","base_offset":10,"last_offset":19,)"
                                  R"("count":10,"position":{},)",
                                  log.positions[1])) != std::string::npos);
  CHECK(count_of(out.text, R"("crc_ok":true)") == 2);
  CHECK(out.text.find(R"("key":"key-1-9","value":"value-1-9","headers":[]})") != std::string::npos);
  CHECK(count_of(out.text, "\n") == count_of(out.text, "{\"type\":"));
}

TEST_CASE("dump of one .log file prints that segment without the checkpoint") {
  sample_log log(2);
  auto out = run_sluice_log("dump " + quoted(log.file(0, "log")));
  CHECK(out.exit_code == 0);
  CHECK(out.text.find("checkpoint") == std::string::npos);
  CHECK(count_of(out.text, "crc=ok") == 2);
}

TEST_CASE("dump marks a batch whose CRC does not match as crc=BAD and exits 1") {
  sample_log log(3);
  flip_byte(log.file(0, "log"), log.positions[1] + 70);
  auto out = run_sluice_log("dump " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK(count_of(out.text, "crc=ok") == 2);
  CHECK(out.text.find("batch base_offset=10 last_offset=19") != std::string::npos);
  CHECK(count_of(out.text, "crc=BAD") == 1);
}

TEST_CASE("dump of a torn log prints the batches before the tear, then the problem, exit 1") {
  sample_log log(3);
  std::filesystem::resize_file(log.file(0, "log"), log.positions[2] + 30);
  auto out = run_sluice_log("dump " + quoted(log.dir()));
  CHECK(out.exit_code == 1);
  CHECK(count_of(out.text, "crc=ok") == 2);
  CHECK_MESSAGE(out.text.find(fmt::format("00000000000000000000.log at position {}: torn tail",
                                          log.positions[2])) != std::string::npos,
                out.text);
}

}  // namespace sluice::test
