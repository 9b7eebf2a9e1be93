#pragma once
// Answers a scripted broker (tests/protocol/fake_broker.h) gives a consumer before its fetches:
// one topic "t" with partition 0 on this broker, and every partition starting at offset 0.

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "protocol/sluice_generated.h"
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

}  // namespace sluice::test
