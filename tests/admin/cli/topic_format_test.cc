#include "admin/cli/topic_format.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "protocol/wire_errc.h"

namespace sluice::cli {

namespace {

topic_description sample_topic() {
  topic_description t;
  t.name = "events";
  t.topic_id = "id-1";
  t.configs = {{"segment.bytes", "1073741824", true}, {"retention.ms", "86400000", false}};
  t.partitions.push_back({.partition = 0,
                          .leader = 1,
                          .log_start_offset = 0,
                          .high_watermark = 120,
                          .log_end_offset = 120,
                          .size_bytes = 12'600,
                          .segments = 1,
                          .problem = std::nullopt});
  partition_description offline;
  offline.partition = 1;
  offline.leader = 1;
  offline.segments = 1;
  offline.problem = error{wire::make_error_code(wire::ErrorCode::storage_error), "fdatasync: EIO"};
  t.partitions.push_back(offline);
  return t;
}

}  // namespace

TEST_CASE("sizes are shown in powers of 1024") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(5ULL << 30) == "5.0 GiB");
}

TEST_CASE("a table aligns columns on the widest cell and trims line ends") {
  const auto t = format_table({{"a", "bb", "c"}, {"long", "x", ""}}, "> ");
  CHECK(t == "> a     bb  c\n> long  x\n");
}

TEST_CASE("describe shows configs sorted with defaults marked, then the partitions") {
  const auto text = format_description_text(sample_topic());
  CHECK(text.find("Topic: events  TopicId: id-1  Partitions: 2\n") == 0);
  CHECK(text.find("    retention.ms=86400000\n    segment.bytes=1073741824 (default)\n") !=
        std::string::npos);
  CHECK(text.find("Partition  Leader  LogStart  HighWatermark  LogEnd  Size      Segments") !=
        std::string::npos);
  CHECK(text.find("  0          1       0         120            120     12.3 KiB  1\n") !=
        std::string::npos);
}

TEST_CASE("describe names an offline partition's problem") {
  const auto text = format_description_text(sample_topic());
  CHECK(text.find("offline: fdatasync: EIO") != std::string::npos);
}

TEST_CASE("describe --json has every figure, exact sizes and null for no problem") {
  const auto j = nlohmann::json::parse(format_description_json(sample_topic()));
  CHECK(j["topic"] == "events");
  CHECK(j["configs"][0]["is_default"] == true);
  CHECK(j["partitions"][0]["high_watermark"] == 120);
  CHECK(j["partitions"][0]["size_bytes"] == 12'600);
  CHECK(j["partitions"][0]["problem"].is_null());
  CHECK(j["partitions"][1]["problem"].get<std::string>().find("EIO") != std::string::npos);
}

}  // namespace sluice::cli
