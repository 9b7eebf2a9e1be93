#pragma once
// Helpers for consumer tests: batches built as a producer builds them, placed at any base offset.

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "consumer/consumer.h"
#include "protocol/bytes.h"
#include "protocol/crc32c.h"
#include "protocol/frame.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_batch_format.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"
#include "tests/result_printer.h"

namespace sluice::test {

// The offsets of records, in order.
inline std::vector<std::int64_t> offsets_of(const std::vector<consumer_record>& records) {
  std::vector<std::int64_t> out;
  for (const auto& r : records) out.push_back(r.offset);
  return out;
}

inline byte_buffer to_buffer(std::string_view s) {
  const byte_span b = as_bytes(s);
  return {b.begin(), b.end()};
}

// n records "k<offset>" -> "v<offset>" at timestamps 1000 + offset, at offsets base..base+n-1.
inline byte_buffer batch_at(std::int64_t base, int n, compression codec = compression::none) {
  record_batch_builder builder({.codec = codec});
  for (int i = 0; i < n; ++i) {
    const auto o = base + i;
    const std::string key = "k" + std::to_string(o);
    const std::string value = "v" + std::to_string(o);
    builder.add(1000 + o, as_bytes(key), as_bytes(value));
  }
  return builder.build(offset{base});
}

inline byte_buffer concat(std::initializer_list<byte_buffer> parts) {
  byte_buffer out;
  for (const byte_buffer& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Finishes `fbb` around `body` as a Response followed by `payload`, and parses it as a client's
// connection does.
template <class T>
response_frame make_response(flatbuffers::FlatBufferBuilder& fbb, flatbuffers::Offset<T> body,
                             const byte_buffer& payload = {}) {
  fbb.Finish(wire::CreateResponse(fbb, 1, wire::ErrorCode::none, 0,
                                  wire::ResponseBodyTraits<T>::enum_value, body.Union()));
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  byte_buffer bytes(p, p + fbb.GetSize());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
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
