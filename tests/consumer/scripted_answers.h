#pragma once
// Answers a scripted broker (tests/protocol/fake_broker.h) gives a consumer before its fetches:
// one topic "t" with partition 0 on this broker, and every partition starting at offset 0.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>

#include "protocol/sluice_generated.h"
#include "tests/consumer/consumer_test_util.h"
#include "tests/protocol/fake_broker.h"

namespace sluice::test {

inline void answer_metadata(boost::asio::ip::tcp::socket& s, std::uint64_t id, std::uint16_t port) {
  flatbuffers::FlatBufferBuilder fbb;
  auto broker = wire::CreateBrokerInfo(fbb, 0, fbb.CreateString("127.0.0.1"), port);
  auto partition = wire::CreatePartitionMetadata(fbb, 0, 0);
  auto topic = wire::CreateTopicMetadata(fbb, fbb.CreateString("t"), wire::ErrorCode::none, 0, 0,
                                         fbb.CreateVector(&partition, 1));
  write_message(s, fbb, id,
                wire::CreateMetadataResponse(fbb, 0, 0, fbb.CreateVector(&broker, 1),
                                             fbb.CreateVector(&topic, 1)),
                0);
}

// The consumer resets a new partition's position (to the end, by default) before a test's seek
// to 0 replaces it: every partition starts at 0 here.
inline void answer_list_offsets(boost::asio::ip::tcp::socket& s, std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto partition = wire::CreateListOffsetsPartitionResult(fbb, 0, wire::ErrorCode::none, 0, 0);
  auto topic = wire::CreateListOffsetsTopicResult(fbb, fbb.CreateString("t"),
                                                  fbb.CreateVector(&partition, 1));
  write_message(s, fbb, id, wire::CreateListOffsetsResponse(fbb, fbb.CreateVector(&topic, 1)), 0);
}

// The offset the (single-partition) fetch asks for.
inline std::int64_t fetch_offset_of(const received_request& req) {
  return req.request()
      .body_as_FetchRequest()
      ->topics()
      ->Get(0)
      ->partitions()
      ->Get(0)
      ->fetch_offset();
}

constexpr int records_per_answer = 5;

// Five records of partition t-0 from the fetch offset, with `next` as the offset the answer says
// the partition continues at.
inline void answer_records(boost::asio::ip::tcp::socket& s, const received_request& req,
                           std::int64_t next) {
  const byte_buffer records = batch_at(fetch_offset_of(req), records_per_answer);
  flatbuffers::FlatBufferBuilder fbb;
  const wire::PayloadRange range(0, static_cast<std::uint32_t>(records.size()));
  auto partition = wire::CreateFetchPartitionResult(fbb, 0, wire::ErrorCode::none, 0, 1'000'000, 0,
                                                    &range, next);
  auto topic =
      wire::CreateFetchTopicResult(fbb, fbb.CreateString("t"), fbb.CreateVector(&partition, 1));
  write_message(s, fbb, req.request().request_id(),
                wire::CreateFetchResponse(fbb, fbb.CreateVector(&topic, 1)), records.size());
  boost::asio::write(s, boost::asio::buffer(records));
}

// Five records from the fetch offset, the next offset right after them.
inline void answer_records(boost::asio::ip::tcp::socket& s, const received_request& req) {
  answer_records(s, req, fetch_offset_of(req) + records_per_answer);
}

}  // namespace sluice::test
