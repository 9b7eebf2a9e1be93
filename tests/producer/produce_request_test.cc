#include "producer/produce_request.h"

#include <doctest/doctest.h>

#include "protocol/api_versions.h"
#include "protocol/client/client_errc.h"
#include "protocol/frame.h"
#include "protocol/wire_errc.h"

namespace sluice::producer_internal {
namespace {

batch_ptr sealed_batch(std::string topic, std::int32_t partition, std::string value) {
  auto b = std::make_shared<producer_batch>(topic_partition{std::move(topic), partition}, 1,
                                            clock::now(), record_batch_builder::options{});
  producer_record r{.topic = b->tp().topic, .value = std::move(value)};
  b->add(r, 1, record_size_upper_bound(r), nullptr);
  b->seal(std::nullopt);
  return b;
}

// The frame as the connection would write it.
byte_buffer frame_bytes(request_builder& req) {
  req.finish(42, 1, "test");
  std::vector<boost::asio::const_buffer> buffers;
  req.append_buffers(buffers);
  byte_buffer out;
  for (const auto& b : buffers) {
    const auto* p = static_cast<const std::byte*>(b.data());
    out.insert(out.end(), p, p + b.size());
  }
  return out;
}

response_frame produce_response(const std::function<flatbuffers::Offset<wire::ProduceResponse>(
                                    flatbuffers::FlatBufferBuilder&)>& body) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto b = body(fbb);
  fbb.Finish(wire::CreateResponse(fbb, 42, wire::ErrorCode::none, 0,
                                  wire::ResponseBody::ProduceResponse, b.Union()));
  byte_buffer message(reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()),
                      reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()) + fbb.GetSize());
  const auto size = static_cast<std::uint32_t>(message.size());
  return response_frame::parse(std::move(message), size).value();
}

flatbuffers::Offset<wire::ProducePartitionResult> ok(flatbuffers::FlatBufferBuilder& fbb,
                                                     std::int32_t partition, std::int64_t base,
                                                     bool duplicate = false) {
  return wire::CreateProducePartitionResult(fbb, partition, wire::ErrorCode::none, 0, base, 0,
                                            duplicate);
}

TEST_CASE("produce_frame_size is the size of the frame the connection sends") {
  std::vector<batch_ptr> batches{sealed_batch("a", 0, "x"), sealed_batch("b", 2, "yy")};
  for (const std::uint64_t request_id : {std::uint64_t{1}, std::uint64_t{1} << 40}) {
    CAPTURE(request_id);
    auto req = build_produce_request(batches, 1, std::chrono::milliseconds(30'000));
    req.finish(request_id, client_version(wire::RequestBody::ProduceRequest), "a-client");
    CHECK(produce_frame_size(batches, 1, std::chrono::milliseconds(30'000), "a-client") ==
          req.frame_size());
  }
}

TEST_CASE("produce_frame_size_bound is never below the frame's size, and not far above it") {
  // One topic or many, long names or short, one batch or a thousand, small values or large.
  for (const std::size_t batches_n : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    for (const std::size_t topics_n : {std::size_t{1}, std::size_t{3}, batches_n}) {
      for (const std::size_t name_length : {std::size_t{1}, std::size_t{249}}) {
        for (const std::size_t value_size : {std::size_t{0}, std::size_t{5000}}) {
          CAPTURE(batches_n);
          CAPTURE(topics_n);
          CAPTURE(name_length);
          CAPTURE(value_size);
          std::vector<batch_ptr> batches;
          for (std::size_t i = 0; i < batches_n; ++i) {
            auto topic = std::to_string(i % topics_n);
            topic.resize(name_length, 't');
            batches.push_back(sealed_batch(topic, static_cast<std::int32_t>(i / topics_n),
                                           std::string(value_size, 'v')));
          }
          for (const std::string_view client : {"", "a-client-with-a-long-name-0123456789"}) {
            const auto exact =
                produce_frame_size(batches, -1, std::chrono::milliseconds(30'000), client);
            const auto bound = produce_frame_size_bound(batches, client);
            CHECK(bound >= exact);
            CHECK(bound <= exact + 512 + batches_n * (96 + name_length));
          }
        }
      }
    }
  }
}

TEST_CASE("a produce request groups batches by topic and carries their bytes as payload") {
  std::vector<batch_ptr> batches{sealed_batch("a", 0, "x"), sealed_batch("b", 2, "yy"),
                                 sealed_batch("a", 1, "zzz")};
  auto req = build_produce_request(batches, -1, std::chrono::milliseconds(1234));
  const auto bytes = frame_bytes(req);
  auto prefix = parse_frame_prefix(byte_span(bytes).first(8), 1 << 20).value();
  const auto body = byte_span(bytes).subspan(8);
  auto request = verify_request(body.first(prefix.message_length)).value();
  const auto payload = body.subspan(prefix.message_length);
  const auto* produce = request->body_as_ProduceRequest();
  REQUIRE(produce != nullptr);
  CHECK(produce->acks() == -1);
  CHECK(produce->timeout_ms() == 1234);
  REQUIRE(produce->topics()->size() == 2);
  const auto* a = produce->topics()->Get(0);
  CHECK(a->name()->str() == "a");
  REQUIRE(a->partitions()->size() == 2);
  CHECK(a->partitions()->Get(1)->partition() == 1);
  auto third = payload_bytes(payload, a->partitions()->Get(1)->records(), "a-1").value();
  CHECK(byte_buffer(third.begin(), third.end()) == *batches[2]->bytes());
  const auto* b = produce->topics()->Get(1);
  CHECK(b->name()->str() == "b");
  auto second = payload_bytes(payload, b->partitions()->Get(0)->records(), "b-2").value();
  CHECK(byte_buffer(second.begin(), second.end()) == *batches[1]->bytes());
}

TEST_CASE("each batch gets the answer for its own partition, duplicates included") {
  std::vector<batch_ptr> batches{sealed_batch("a", 0, "x"), sealed_batch("a", 1, "y")};
  auto frame = produce_response([](flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<flatbuffers::Offset<wire::ProducePartitionResult>> parts{ok(fbb, 1, 70, true),
                                                                         ok(fbb, 0, 10)};
    auto t = wire::CreateProduceTopicResult(fbb, fbb.CreateString("a"), fbb.CreateVector(parts));
    return wire::CreateProduceResponse(fbb, fbb.CreateVector(&t, 1));
  });
  auto out = match_produce_response(frame, batches);
  REQUIRE(out.size() == 2);
  REQUIRE(out[0].has_value());
  CHECK(out[0]->base_offset == 10);
  CHECK_FALSE(out[0]->duplicate);
  REQUIRE(out[1].has_value());
  CHECK(out[1]->base_offset == 70);
  CHECK(out[1]->duplicate);
}

TEST_CASE("a partition's error comes back with the broker's message") {
  std::vector<batch_ptr> batches{sealed_batch("a", 0, "x")};
  auto frame = produce_response([](flatbuffers::FlatBufferBuilder& fbb) {
    auto part = wire::CreateProducePartitionResult(
        fbb, 0, wire::ErrorCode::message_too_large,
        fbb.CreateString("batch of 2000 bytes above max.message.bytes 1000"));
    auto t = wire::CreateProduceTopicResult(fbb, fbb.CreateString("a"), fbb.CreateVector(&part, 1));
    return wire::CreateProduceResponse(fbb, fbb.CreateVector(&t, 1));
  });
  auto out = match_produce_response(frame, batches);
  REQUIRE_FALSE(out[0].has_value());
  CHECK(out[0].error().code == wire::ErrorCode::message_too_large);
  CHECK(out[0].error().detail == "batch of 2000 bytes above max.message.bytes 1000");
}

TEST_CASE("a batch the answer does not mention fails with protocol_violation") {
  std::vector<batch_ptr> batches{sealed_batch("a", 0, "x"), sealed_batch("b", 0, "y")};
  auto frame = produce_response([](flatbuffers::FlatBufferBuilder& fbb) {
    auto part = ok(fbb, 0, 5);
    auto t = wire::CreateProduceTopicResult(fbb, fbb.CreateString("a"), fbb.CreateVector(&part, 1));
    return wire::CreateProduceResponse(fbb, fbb.CreateVector(&t, 1));
  });
  auto out = match_produce_response(frame, batches);
  CHECK(out[0].has_value());
  REQUIRE_FALSE(out[1].has_value());
  CHECK(out[1].error().code == client_errc::protocol_violation);
  CHECK(out[1].error().detail.find("b-0") != std::string::npos);
}

}  // namespace
}  // namespace sluice::producer_internal
