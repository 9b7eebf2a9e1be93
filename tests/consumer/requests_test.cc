#include <doctest/doctest.h>

#include "consumer/fetch_request.h"
#include "consumer/offset_requests.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"
#include "tests/consumer/consumer_test_util.h"

namespace sluice::consumer_detail {
namespace {

using flatbuffers::Offset;

}  // namespace

TEST_CASE("a fetch request groups adjacent partitions of a topic and carries the limits") {
  consumer_config config{.brokers = "",
                         .fetch_min_bytes = 7,
                         .fetch_max_wait = std::chrono::milliseconds(250),
                         .fetch_max_bytes = 1000,
                         .max_partition_fetch_bytes = 100};
  auto req = fetch_request({{{"a", 0}, 5}, {{"a", 1}, 6}, {{"b", 0}, 7}}, config);
  const auto* body = test::request_body<wire::FetchRequest>(req);
  CHECK(body->max_wait_ms() == 250);
  CHECK(body->min_bytes() == 7);
  CHECK(body->max_bytes() == 1000);
  REQUIRE(body->topics()->size() == 2);
  const auto* a = body->topics()->Get(0);
  CHECK(a->name()->str() == "a");
  REQUIRE(a->partitions()->size() == 2);
  CHECK(a->partitions()->Get(1)->partition() == 1);
  CHECK(a->partitions()->Get(1)->fetch_offset() == 6);
  CHECK(a->partitions()->Get(1)->max_bytes() == 100);
  CHECK(body->topics()->Get(1)->partitions()->Get(0)->fetch_offset() == 7);
}

TEST_CASE("a fetch answer is read per partition with its records from the payload") {
  const auto batch = test::batch_at(0, 3);
  flatbuffers::FlatBufferBuilder fbb;
  const wire::PayloadRange range(0, static_cast<std::uint32_t>(batch.size()));
  const std::vector<Offset<wire::FetchPartitionResult>> partitions{
      wire::CreateFetchPartitionResultDirect(fbb, 0, wire::ErrorCode::none, nullptr, 3, 0, &range),
      wire::CreateFetchPartitionResultDirect(fbb, 1, wire::ErrorCode::offset_out_of_range,
                                             "offset 99 is above 3", 3, 0)};
  const std::vector<Offset<wire::FetchTopicResult>> topics{
      wire::CreateFetchTopicResultDirect(fbb, "a", &partitions)};
  auto frame = test::make_response(fbb, wire::CreateFetchResponseDirect(fbb, &topics), batch);

  auto r = read_fetch_response(frame);
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].tp == topic_partition{"a", 0});
  CHECK((*r)[0].high_watermark == 3);
  CHECK((*r)[0].records.size() == batch.size());
  CHECK((*r)[1].error == wire::ErrorCode::offset_out_of_range);
  CHECK((*r)[1].error_message == "offset 99 is above 3");
  CHECK((*r)[1].records.empty());
}

TEST_CASE("a records range outside the payload is a corrupt message") {
  flatbuffers::FlatBufferBuilder fbb;
  const wire::PayloadRange range(0, 100);
  const std::vector<Offset<wire::FetchPartitionResult>> partitions{
      wire::CreateFetchPartitionResultDirect(fbb, 0, wire::ErrorCode::none, nullptr, 3, 0, &range)};
  const std::vector<Offset<wire::FetchTopicResult>> topics{
      wire::CreateFetchTopicResultDirect(fbb, "a", &partitions)};
  auto frame = test::make_response(fbb, wire::CreateFetchResponseDirect(fbb, &topics));
  auto r = read_fetch_response(frame);
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::corrupt_message);
}

TEST_CASE("list offsets asks per topic and reads per partition offsets and errors") {
  auto req = list_offsets_request({{"a", 0}, {"b", 1}, {"a", 2}}, latest_spec);
  const auto* body = test::request_body<wire::ListOffsetsRequest>(req);
  REQUIRE(body->topics()->size() == 2);
  CHECK(body->topics()->Get(0)->partitions()->size() == 2);
  CHECK(body->topics()->Get(0)->partitions()->Get(0)->timestamp() == -1);

  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::ListOffsetsPartitionResult>> partitions{
      wire::CreateListOffsetsPartitionResultDirect(fbb, 0, wire::ErrorCode::none, nullptr, 42),
      wire::CreateListOffsetsPartitionResultDirect(fbb, 1, wire::ErrorCode::unknown_partition,
                                                   nullptr)};
  const std::vector<Offset<wire::ListOffsetsTopicResult>> topics{
      wire::CreateListOffsetsTopicResultDirect(fbb, "a", &partitions)};
  auto frame = test::make_response(fbb, wire::CreateListOffsetsResponseDirect(fbb, &topics));
  auto r = read_list_offsets(frame, {{"a", 0}, {"a", 1}});
  REQUIRE(r);
  CHECK(r->at({"a", 0}).value() == 42);
  REQUIRE(!r->at({"a", 1}));
  CHECK(r->at({"a", 1}).error().code == wire::ErrorCode::unknown_partition);
  CHECK(r->at({"a", 1}).error().detail == "a-1");

  auto missing = read_list_offsets(frame, {{"a", 5}});
  REQUIRE(!missing);
  CHECK(missing.error().code == client_errc::protocol_violation);
}

TEST_CASE("a timestamp no record reaches stands for the log end the same lookup saw") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::ListOffsetsPartitionResult>> partitions{
      // No record that late; the log ended at 17.
      wire::CreateListOffsetsPartitionResultDirect(fbb, 0, wire::ErrorCode::none, nullptr, -1, -1,
                                                   17),
      // From a broker that does not say where its log ended.
      wire::CreateListOffsetsPartitionResultDirect(fbb, 1, wire::ErrorCode::none, nullptr, -1)};
  const std::vector<Offset<wire::ListOffsetsTopicResult>> topics{
      wire::CreateListOffsetsTopicResultDirect(fbb, "a", &partitions)};
  auto frame = test::make_response(fbb, wire::CreateListOffsetsResponseDirect(fbb, &topics));
  auto as_end = read_list_offsets(frame, {{"a", 0}, {"a", 1}}, true);
  REQUIRE(as_end);
  CHECK(as_end->at({"a", 0}).value() == 17);
  CHECK(as_end->at({"a", 1}).value() == -1);  // the caller asks for the end separately
  auto as_is = read_list_offsets(frame, {{"a", 0}});
  REQUIRE(as_is);
  CHECK(as_is->at({"a", 0}).value() == -1);
}

TEST_CASE("partition counts come from metadata; a topic left out is unknown") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::PartitionMetadata>> partitions{
      wire::CreatePartitionMetadata(fbb, 0, 0), wire::CreatePartitionMetadata(fbb, 1, 0),
      wire::CreatePartitionMetadata(fbb, 2, 0)};
  const std::vector<Offset<wire::TopicMetadata>> topics{
      wire::CreateTopicMetadataDirect(fbb, "a", wire::ErrorCode::none, nullptr, "id", &partitions)};
  auto frame =
      test::make_response(fbb, wire::CreateMetadataResponseDirect(fbb, "c", 0, nullptr, &topics));
  auto counts = read_partition_counts(frame, {"a"});
  REQUIRE(counts);
  CHECK(counts->at("a") == 3);
  auto missing = read_partition_counts(frame, {"a", "b"});
  REQUIRE(!missing);
  CHECK(missing.error().code == wire::ErrorCode::unknown_topic);
  CHECK(missing.error().detail.find("'b'") != std::string::npos);
}

TEST_CASE("a topic error in metadata is returned with the broker's message") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::TopicMetadata>> topics{wire::CreateTopicMetadataDirect(
      fbb, "a", wire::ErrorCode::unknown_topic, "topic 'a' does not exist")};
  auto frame =
      test::make_response(fbb, wire::CreateMetadataResponseDirect(fbb, "c", 0, nullptr, &topics));
  auto r = read_partition_counts(frame, {"a"});
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::unknown_topic);
  CHECK(r.error().detail == "topic 'a' does not exist");
}

}  // namespace sluice::consumer_detail
