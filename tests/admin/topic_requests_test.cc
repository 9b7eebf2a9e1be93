#include "admin/topic_requests.h"

#include <doctest/doctest.h>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"
#include "tests/admin/response_util.h"

namespace sluice::admin_detail {
namespace {

using flatbuffers::Offset;

response_frame topic_results(wire::ErrorCode code, const char* name, const char* message) {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::TopicResult>> results{
      wire::CreateTopicResultDirect(fbb, name, code, message)};
  return test::make_response(fbb, wire::CreateCreateTopicsResponseDirect(fbb, &results));
}

}  // namespace

TEST_CASE("a create request carries the name, partition count, configs and validate_only") {
  auto req = create_topics_request({.name = "events",
                                    .partitions = 3,
                                    .configs = {{"retention.ms", "1000"}, {"flush", "always"}}},
                                   true);
  const auto* body = test::request_body<wire::CreateTopicsRequest>(req);
  CHECK(body->validate_only());
  REQUIRE(body->topics()->size() == 1);
  const auto* t = body->topics()->Get(0);
  CHECK(t->name()->str() == "events");
  CHECK(t->partitions() == 3);
  REQUIRE(t->configs()->size() == 2);
  CHECK(t->configs()->Get(0)->name()->str() == "flush");
  CHECK(t->configs()->Get(0)->value()->str() == "always");
  CHECK(t->configs()->Get(1)->name()->str() == "retention.ms");
}

TEST_CASE("a topic error comes back with the broker's code and message") {
  auto frame = topic_results(wire::ErrorCode::topic_already_exists, "events",
                             "topic 'events' already exists");
  auto r = read_create_topics(frame, "events");
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::topic_already_exists);
  CHECK(r.error().detail == "topic 'events' already exists");
}

TEST_CASE("a topic error without a message names the topic") {
  auto frame = topic_results(wire::ErrorCode::invalid_config, "events", nullptr);
  auto r = read_create_topics(frame, "events");
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::invalid_config);
  CHECK(r.error().detail == "topic 'events'");
}

TEST_CASE("a successful create reads as success") {
  auto frame = topic_results(wire::ErrorCode::none, "events", nullptr);
  CHECK(read_create_topics(frame, "events"));
}

TEST_CASE("a response without the topic asked about is a protocol violation") {
  auto frame = topic_results(wire::ErrorCode::none, "other", nullptr);
  auto r = read_create_topics(frame, "events");
  REQUIRE(!r);
  CHECK(r.error().code == client_errc::protocol_violation);
  CHECK(r.error().detail.find("events") != std::string::npos);
}

TEST_CASE("a delete request names the topic and its result is read by name") {
  auto req = delete_topics_request("events");
  const auto* body = test::request_body<wire::DeleteTopicsRequest>(req);
  REQUIRE(body->names()->size() == 1);
  CHECK(body->names()->Get(0)->str() == "events");

  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::TopicResult>> results{
      wire::CreateTopicResultDirect(fbb, "events", wire::ErrorCode::unknown_topic, "no topic")};
  auto frame = test::make_response(fbb, wire::CreateDeleteTopicsResponseDirect(fbb, &results));
  auto r = read_delete_topics(frame, "events");
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::unknown_topic);
}

TEST_CASE("describing every topic sends no names") {
  auto req = describe_topics_request({});
  const auto* body = test::request_body<wire::DescribeTopicsRequest>(req);
  CHECK(body->names() == nullptr);
}

TEST_CASE("a description carries configs, partition state and partition problems") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::ConfigEntry>> configs{
      wire::CreateConfigEntryDirect(fbb, "retention.ms", "1000", false),
      wire::CreateConfigEntryDirect(fbb, "flush", "always", true)};
  const std::vector<Offset<wire::PartitionDescription>> partitions{
      wire::CreatePartitionDescription(fbb, 0, 0, 5, 10, 10, 4096, 2),
      wire::CreatePartitionDescription(fbb, 1, 0, 0, 0, 0, 0, 1, wire::ErrorCode::storage_error,
                                       fbb.CreateString("EIO on fdatasync"))};
  const std::vector<Offset<wire::TopicDescription>> topics{wire::CreateTopicDescriptionDirect(
      fbb, "events", wire::ErrorCode::none, nullptr, "id-1", &configs, &partitions)};
  auto frame = test::make_response(fbb, wire::CreateDescribeTopicsResponseDirect(fbb, &topics));

  auto r = read_describe_topics(frame);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const auto& t = r->front();
  CHECK(t.name == "events");
  CHECK(t.topic_id == "id-1");
  REQUIRE(t.configs.size() == 2);
  CHECK(t.configs[0].name == "retention.ms");
  CHECK(t.configs[0].value == "1000");
  CHECK(!t.configs[0].is_default);
  CHECK(t.configs[1].is_default);
  REQUIRE(t.partitions.size() == 2);
  CHECK(t.partitions[0].log_start_offset == 5);
  CHECK(t.partitions[0].high_watermark == 10);
  CHECK(t.partitions[0].size_bytes == 4096);
  CHECK(t.partitions[0].segments == 2);
  CHECK(!t.partitions[0].problem);
  REQUIRE(t.partitions[1].problem);
  CHECK(t.partitions[1].problem->code == wire::ErrorCode::storage_error);
  CHECK(t.partitions[1].problem->detail == "EIO on fdatasync");
}

TEST_CASE("describing an unknown topic fails with the broker's error") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<Offset<wire::TopicDescription>> topics{wire::CreateTopicDescriptionDirect(
      fbb, "nope", wire::ErrorCode::unknown_topic, "topic 'nope' does not exist")};
  auto frame = test::make_response(fbb, wire::CreateDescribeTopicsResponseDirect(fbb, &topics));
  auto r = read_describe_topics(frame);
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::unknown_topic);
  CHECK(r.error().detail == "topic 'nope' does not exist");
}

TEST_CASE("an alter request carries the settings to set and the names to reset") {
  auto req = alter_configs_request("events", {{"retention.ms", "5000"}}, {"segment.bytes"}, true);
  const auto* body = test::request_body<wire::AlterConfigsRequest>(req);
  CHECK(body->topic()->str() == "events");
  CHECK(body->validate_only());
  REQUIRE(body->set()->size() == 1);
  CHECK(body->set()->Get(0)->name()->str() == "retention.ms");
  CHECK(body->set()->Get(0)->value()->str() == "5000");
  REQUIRE(body->reset()->size() == 1);
  CHECK(body->reset()->Get(0)->str() == "segment.bytes");
}

TEST_CASE("an alter refused by the broker returns its error") {
  flatbuffers::FlatBufferBuilder fbb;
  const auto result =
      wire::CreateTopicResultDirect(fbb, "events", wire::ErrorCode::invalid_config, "bad flush");
  auto frame = test::make_response(fbb, wire::CreateAlterConfigsResponse(fbb, result));
  auto r = read_alter_configs(frame, "events");
  REQUIRE(!r);
  CHECK(r.error().code == wire::ErrorCode::invalid_config);
  CHECK(r.error().detail == "bad flush");
}

}  // namespace sluice::admin_detail
