#pragma once
// Helpers for admin tests: a response frame as a broker would send it, and a request's message
// as a broker would read it, both without a network.

#include <doctest/doctest.h>

#include <string>

#include "protocol/bytes.h"
#include "protocol/frame.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"
#include "tests/result_printer.h"

namespace sluice::test {

// Finishes `fbb` around `body` as a Response (request id 1, no error) and parses it as a
// client's connection does.
template <class T>
response_frame make_response(flatbuffers::FlatBufferBuilder& fbb, flatbuffers::Offset<T> body) {
  fbb.Finish(wire::CreateResponse(fbb, 1, wire::ErrorCode::none, 0,
                                  wire::ResponseBodyTraits<T>::enum_value, body.Union()));
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  byte_buffer bytes(p, p + fbb.GetSize());
  auto frame = response_frame::parse(std::move(bytes), static_cast<std::uint32_t>(fbb.GetSize()));
  REQUIRE(frame.has_value());
  return std::move(*frame);
}

// The request's body as a broker sees it. `req` must outlive the returned pointer.
template <class T>
const T* request_body(request_builder& req) {
  req.finish(1, 1, "test");
  std::vector<boost::asio::const_buffer> buffers;
  req.append_buffers(buffers);
  REQUIRE(buffers.size() >= 2);
  const byte_span message(static_cast<const std::byte*>(buffers[1].data()), buffers[1].size());
  auto r = verify_request(message);
  REQUIRE(r.has_value());
  const T* body = (*r)->body_as<T>();
  REQUIRE(body != nullptr);
  return body;
}

}  // namespace sluice::test
