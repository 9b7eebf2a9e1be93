#include "admin/cli/produce_summary.h"

#include <doctest/doctest.h>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::cli {

namespace {

record_metadata stored_at(std::int32_t partition, std::int64_t offset) {
  record_metadata md;
  md.topic = "t";
  md.partition = partition;
  md.offset = offset;
  return md;
}

}  // namespace

TEST_CASE("the summary gives records, bytes and the offset range per partition") {
  produce_summary s;
  s.on_stored(stored_at(1, 7), 10);
  s.on_stored(stored_at(0, 3), 10);
  s.on_stored(stored_at(1, 5), 20);
  CHECK(s.stored() == 3);
  CHECK(s.format("t", 0.5) ==
        "produced 3 records (40 B) to t in 0.50 s\n"
        "  partition 0: 1 record, offsets 3..3\n"
        "  partition 1: 2 records, offsets 5..7\n");
  CHECK_FALSE(s.failure_line());
}

TEST_CASE("with acks=0 offsets are unknown and said to be") {
  produce_summary s;
  s.on_stored(stored_at(0, -1), 1);
  CHECK(s.format("t", 0).find("offsets unknown (acks=0)") != std::string::npos);
}

TEST_CASE("failures name the first error and how many other kinds there were") {
  produce_summary s;
  s.on_stored(stored_at(0, 0), 1);
  s.on_failed({wire::make_error_code(wire::ErrorCode::message_too_large), "record of 2 MiB"});
  s.on_failed({wire::make_error_code(wire::ErrorCode::message_too_large), "record of 3 MiB"});
  s.on_failed(make_error(client_errc::timed_out, "delivery timed out"));
  CHECK(s.failed() == 3);
  const auto line = s.failure_line().value();
  CHECK(line.starts_with("3 of 4 records failed: record of 2 MiB"));
  CHECK(line.ends_with("(and 1 other kinds of error)"));
}

TEST_CASE("record bytes count key, value and headers") {
  producer_record r;
  r.key = "ab";
  r.value = "cde";
  r.headers = {{"h", "12"}, {"n", std::nullopt}};
  CHECK(record_bytes(r) == 2 + 3 + 1 + 2 + 1);
  CHECK(count_of_records(1) == "1 record");
  CHECK(count_of_records(0) == "0 records");
}

}  // namespace sluice::cli
