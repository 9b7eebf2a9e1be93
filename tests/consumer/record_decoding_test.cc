#include "consumer/record_decoding.h"

#include <doctest/doctest.h>

#include "protocol/errc.h"
#include "protocol/record_batch_format.h"
#include "tests/consumer/consumer_test_util.h"

namespace sluice::consumer_detail {
namespace {

const topic_partition tp{"events", 3};

}  // namespace

TEST_CASE("records of uncompressed and zstd batches decode with topic, partition and fields") {
  for (auto codec : {compression::none, compression::zstd}) {
    CAPTURE(static_cast<int>(codec));
    const auto bytes = test::batch_at(10, 3, codec);
    std::vector<consumer_record> out;
    const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 10, true, out);
    CHECK(!outcome.failure);
    CHECK(outcome.next_offset == 13);
    REQUIRE(out.size() == 3);
    CHECK(out[1].topic == "events");
    CHECK(out[1].partition == 3);
    CHECK(out[1].offset == 11);
    CHECK(out[1].timestamp == 1011);
    CHECK(out[1].key == "k11");
    CHECK(out[1].value == "v11");
  }
}

TEST_CASE("records point into the fetched bytes and keep them alive after the answer is gone") {
  for (auto codec : {compression::none, compression::zstd}) {
    CAPTURE(static_cast<int>(codec));
    auto answer = std::make_shared<byte_buffer>(test::batch_at(20, 3, codec));
    std::vector<consumer_record> out;
    REQUIRE(!decode_fetched_batches(*answer, answer, tp, 20, true, out).failure);
    REQUIRE(out.size() == 3);
    if (codec == compression::none) {
      // No copy: the value lies inside the answer's bytes.
      const auto* first = reinterpret_cast<const char*>(answer->data());
      CHECK(out[2].value->data() > first);
      CHECK(out[2].value->data() < first + answer->size());
    }
    const consumer_record kept = out[2];
    answer.reset();
    out.clear();  // only `kept` holds the bytes now (ASan catches a view that outlived them)
    CHECK(kept.key == "k22");
    CHECK(kept.value == "v22");
  }
}

TEST_CASE("headers, null keys and null values survive decoding") {
  record_batch_builder builder({.codec = compression::zstd});
  const std::vector<record_header> headers{{"trace", test::to_buffer("abc")}, {"empty", {}}};
  builder.add(5, std::nullopt, std::nullopt, headers);
  const auto bytes = builder.build(offset{0});
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 0, true, out);
  REQUIRE(!outcome.failure);
  REQUIRE(out.size() == 1);
  CHECK(!out[0].key);
  CHECK(!out[0].value);
  REQUIRE(out[0].headers.size() == 2);
  CHECK(out[0].headers[0].first == "trace");
  CHECK(out[0].headers[0].second == "abc");
  CHECK(out[0].headers[1].first == "empty");
  CHECK(!out[0].headers[1].second);
}

TEST_CASE("records below the position are skipped, inside a batch and whole batches") {
  const auto bytes = test::concat(
      {test::batch_at(0, 5), test::batch_at(5, 5, compression::zstd), test::batch_at(10, 5)});
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 7, true, out);
  CHECK(!outcome.failure);
  CHECK(outcome.next_offset == 15);
  CHECK(test::offsets_of(out) == std::vector<std::int64_t>{7, 8, 9, 10, 11, 12, 13, 14});
}

TEST_CASE("a batch wholly below the position is skipped without checking its CRC") {
  auto old = test::batch_at(0, 2);
  old[crc_offset] ^= std::byte{0xff};
  const auto bytes = test::concat({old, test::batch_at(2, 2)});
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 2, true, out);
  CHECK(!outcome.failure);
  CHECK(test::offsets_of(out) == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("a CRC mismatch stops decoding at that batch and names partition and offset") {
  auto bad = test::batch_at(3, 3);
  bad.back() ^= std::byte{0x01};
  const auto bytes = test::concat({test::batch_at(0, 3), bad, test::batch_at(6, 3)});
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 0, true, out);
  REQUIRE(outcome.failure);
  CHECK(outcome.failure->code == protocol_errc::bad_crc);
  CHECK(outcome.failure->detail.find("events-3") != std::string::npos);
  CHECK(outcome.failure->detail.find("offset 3") != std::string::npos);
  CHECK(outcome.next_offset == 3);
  CHECK(test::offsets_of(out) == std::vector<std::int64_t>{0, 1, 2});
}

TEST_CASE("with check_crcs off a batch whose stored CRC is wrong is still decoded") {
  auto bad = test::batch_at(0, 1);
  bad[crc_offset] ^= std::byte{0xff};
  std::vector<consumer_record> out;
  CHECK(decode_fetched_batches(bad, nullptr, tp, 0, true, out).failure);
  out.clear();
  const auto outcome = decode_fetched_batches(bad, nullptr, tp, 0, false, out);
  CHECK(!outcome.failure);
  CHECK(out.size() == 1);
}

TEST_CASE("a trailing partial batch is left for the next fetch") {
  const auto whole = test::batch_at(0, 2);
  auto bytes = test::concat({whole, test::batch_at(2, 2)});
  bytes.resize(whole.size() + 20);
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 0, true, out);
  CHECK(!outcome.failure);
  CHECK(outcome.next_offset == 2);
  CHECK(out.size() == 2);
  CHECK(next_fetch_offset(bytes, 0) == 2);
}

TEST_CASE("bytes without any whole batch are an error, not an endless refetch") {
  auto bytes = test::batch_at(4, 2);
  bytes.resize(bytes.size() - 1);
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 4, true, out);
  REQUIRE(outcome.failure);
  CHECK(outcome.failure->code == protocol_errc::batch_truncated);
  CHECK(outcome.next_offset == 4);
}

TEST_CASE("a malformed batch header fails with the partition named") {
  auto bytes = test::concat({test::batch_at(0, 1), test::batch_at(1, 1)});
  const auto second = test::batch_at(0, 1).size();
  bytes[second + magic_offset] = std::byte{1};
  std::vector<consumer_record> out;
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 0, true, out);
  REQUIRE(outcome.failure);
  CHECK(outcome.failure->code == protocol_errc::bad_magic);
  CHECK(outcome.next_offset == 1);
  CHECK(out.size() == 1);
}

TEST_CASE("control batches are skipped but move the position past them") {
  auto control = test::batch_at(2, 1);
  auto attributes = load_be<std::int16_t>(control.data() + attributes_offset);
  store_be(control.data() + attributes_offset,
           static_cast<std::int16_t>(attributes | control_mask));
  const auto bytes = test::concat({test::batch_at(0, 2), control, test::batch_at(3, 1)});
  std::vector<consumer_record> out;
  // The control batch's CRC no longer matches, so CRC checks must not even look at it.
  const auto outcome = decode_fetched_batches(bytes, nullptr, tp, 0, true, out);
  CHECK(!outcome.failure);
  CHECK(test::offsets_of(out) == std::vector<std::int64_t>{0, 1, 3});
  CHECK(outcome.next_offset == 4);
}

TEST_CASE("next_fetch_offset reads batch headers only") {
  const auto bytes = test::concat({test::batch_at(0, 4), test::batch_at(4, 6, compression::zstd)});
  CHECK(next_fetch_offset(bytes, 0) == 10);
  CHECK(next_fetch_offset({}, 7) == 7);
}

TEST_CASE("split_at_batches cuts between whole batches, at most max_records per piece") {
  const auto a = test::batch_at(0, 3);
  const auto b = test::batch_at(3, 2);
  const auto c = test::batch_at(5, 6);
  const auto d = test::batch_at(11, 1);
  const auto bytes = test::concat({a, b, c, d});
  const auto pieces = split_at_batches(bytes, 5);
  REQUIRE(pieces.size() == 3);  // a+b (5 records), c alone (6 > 5), d
  CHECK(pieces[0].size() == a.size() + b.size());
  CHECK(pieces[1].size() == c.size());
  CHECK(pieces[2].size() == d.size());
  std::vector<consumer_record> out;
  for (const auto piece : pieces)
    CHECK(!decode_fetched_batches(piece, nullptr, tp, 0, true, out).failure);
  CHECK(out.size() == 12);
}

TEST_CASE("split_at_batches keeps a trailing partial batch with the last piece") {
  const auto whole = test::batch_at(0, 3);
  const auto next = test::batch_at(3, 3);
  auto bytes = test::concat({whole, next});
  bytes.resize(whole.size() + next.size() / 2);
  const auto pieces = split_at_batches(bytes, 1);
  REQUIRE(pieces.size() == 1);
  CHECK(pieces[0].size() == bytes.size());
  const auto none = split_at_batches(byte_span(bytes).subspan(0, 10), 1);
  REQUIRE(none.size() == 1);
  CHECK(none[0].size() == 10);
}

TEST_CASE("a record's footprint counts its key, value and headers") {
  consumer_record r;
  const auto empty = record_footprint(r);
  const std::string key(100, 'k');
  const std::string value(1000, 'v');
  const std::string header_value(10, 'x');
  r.key = key;
  r.value = value;
  r.headers.emplace_back("h", header_value);
  CHECK(record_footprint(r) > empty + 1110);
}

}  // namespace sluice::consumer_detail
