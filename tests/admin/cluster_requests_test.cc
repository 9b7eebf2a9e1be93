#include "admin/cluster_requests.h"

#include <doctest/doctest.h>

#include "protocol/wire_errc.h"
#include "tests/admin/response_util.h"

namespace sluice::admin_detail {
namespace {

using flatbuffers::Offset;

response_frame list_offsets_answer(std::int64_t offset,
                                   wire::ErrorCode code = wire::ErrorCode::none) {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::ListOffsetsPartitionResult>> partitions{
      wire::CreateListOffsetsPartitionResultDirect(fbb, 2, code, "msg", offset)};
  const std::vector<Offset<wire::ListOffsetsTopicResult>> topics{
      wire::CreateListOffsetsTopicResultDirect(fbb, "events", &partitions)};
  return test::make_response(fbb, wire::CreateListOffsetsResponseDirect(fbb, &topics));
}

}  // namespace

TEST_CASE("metadata lists brokers, controller and topics with their partition counts") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::BrokerInfo>> brokers{
      wire::CreateBrokerInfoDirect(fbb, 0, "127.0.0.1", 9190)};
  const std::vector<Offset<wire::PartitionMetadata>> partitions{
      wire::CreatePartitionMetadata(fbb, 0, 0), wire::CreatePartitionMetadata(fbb, 1, 0)};
  const std::vector<Offset<wire::TopicMetadata>> topics{wire::CreateTopicMetadataDirect(
      fbb, "events", wire::ErrorCode::none, nullptr, "id-7", &partitions)};
  auto frame = test::make_response(
      fbb, wire::CreateMetadataResponseDirect(fbb, "cluster-1", 0, &brokers, &topics));

  auto r = read_metadata(frame);
  REQUIRE(r);
  CHECK(r->cluster_id == "cluster-1");
  CHECK(r->controller_id == 0);
  REQUIRE(r->brokers.size() == 1);
  CHECK(r->brokers[0].host == "127.0.0.1");
  CHECK(r->brokers[0].port == 9190);
  REQUIRE(r->topics.size() == 1);
  CHECK(r->topics[0].name == "events");
  CHECK(r->topics[0].topic_id == "id-7");
  CHECK(r->topics[0].partitions == 2);
}

TEST_CASE("a list offsets request asks for one partition with the spec") {
  auto req = list_offsets_request("events", 2, earliest_offset_spec);
  const auto* body = test::request_body<wire::ListOffsetsRequest>(req);
  REQUIRE(body->topics()->size() == 1);
  CHECK(body->topics()->Get(0)->name()->str() == "events");
  const auto* p = body->topics()->Get(0)->partitions()->Get(0);
  CHECK(p->partition() == 2);
  CHECK(p->timestamp() == -2);
}

TEST_CASE("list offsets reads the offset, and -1 as no record that late") {
  auto found = read_list_offsets(list_offsets_answer(42), "events", 2);
  REQUIRE(found);
  CHECK(*found == std::optional<std::int64_t>(42));
  auto none = read_list_offsets(list_offsets_answer(-1), "events", 2);
  REQUIRE(none);
  CHECK(!none->has_value());
}

TEST_CASE("list offsets returns the partition's error") {
  auto r =
      read_list_offsets(list_offsets_answer(-1, wire::ErrorCode::unknown_partition), "events", 2);
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::unknown_partition);
  CHECK(r.error().detail == "msg");
}

TEST_CASE("list offsets without the partition asked about is a protocol violation") {
  auto r = read_list_offsets(list_offsets_answer(5), "events", 3);
  CHECK(!r);
}

}  // namespace sluice::admin_detail
