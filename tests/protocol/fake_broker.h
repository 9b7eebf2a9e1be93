#pragma once
// The broker's side of the native protocol, by hand, for tests that need a broker to answer
// what a real one never would (a message without its payload yet, a wrong next_fetch_offset).
// Blocking calls on a socket the test's own thread accepted.

#include <doctest/doctest.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/frame.h"

namespace sluice::test {

// One request frame as the broker reads it.
struct received_request {
  byte_buffer message;
  [[nodiscard]] const wire::Request& request() const {
    return *flatbuffers::GetRoot<wire::Request>(message.data());
  }
};

inline received_request read_request(boost::asio::ip::tcp::socket& s) {
  std::array<std::byte, frame_format::prefix_size> prefix{};
  boost::asio::read(s, boost::asio::buffer(prefix));
  auto p = parse_frame_prefix(prefix, 1U << 20);
  REQUIRE(p.has_value());
  byte_buffer body(p->body_size());
  boost::asio::read(s, boost::asio::buffer(body));
  body.resize(p->message_length);
  REQUIRE(verify_request(body).has_value());
  return {std::move(body)};
}

// Writes a response frame around `body` announcing `payload_size` bytes of payload, of which
// none is sent here.
template <class T>
void write_message(boost::asio::ip::tcp::socket& s, flatbuffers::FlatBufferBuilder& fbb,
                   std::uint64_t id, flatbuffers::Offset<T> body, std::size_t payload_size) {
  fbb.Finish(wire::CreateResponse(fbb, id, wire::ErrorCode::none, 0,
                                  wire::ResponseBodyTraits<T>::enum_value, body.Union()));
  const auto prefix = encode_frame_prefix(fbb.GetSize(), payload_size);
  boost::asio::write(s, boost::asio::buffer(prefix));
  boost::asio::write(s, boost::asio::buffer(fbb.GetBufferPointer(), fbb.GetSize()));
}

// Answers an ApiVersions request: every version of every request is supported.
inline void accept_every_version(boost::asio::ip::tcp::socket& s, std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<wire::ApiVersionRange>> apis;
  for (auto api = static_cast<int>(wire::RequestBody::MIN) + 1;
       api <= static_cast<int>(wire::RequestBody::MAX); ++api) {
    apis.push_back(wire::CreateApiVersionRange(fbb, static_cast<std::uint8_t>(api), 0, UINT16_MAX));
  }
  write_message(s, fbb, id, wire::CreateApiVersionsResponseDirect(fbb, &apis, "fake"), 0);
}

}  // namespace sluice::test
