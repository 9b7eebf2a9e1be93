#pragma once
// Building native-protocol frames (frame_format.h): a flatbuffers message and payload parts
// that are referenced, not copied, and leave in one gather write.
//
//   request_builder b;
//   auto range = b.add_payload(batch);              // shared bytes, referenced by the message
//   ... build a wire::ProduceRequest in b.fbb() using `range` ...
//   b.set_body(produce_request_offset);
//   connection->send(std::move(b), handler);      // the connection adds request id and version

#include <array>
#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/frame_format.h"
#include "protocol/sluice_generated.h"

namespace sluice {

// Bytes shared between a client's retry queue and the frames that carry them.
using shared_bytes = std::shared_ptr<const byte_buffer>;

class request_builder {
 public:
  explicit request_builder(std::size_t initial_message_bytes = 512) : fbb_(initial_message_bytes) {}
  request_builder(request_builder&&) noexcept = default;
  request_builder& operator=(request_builder&&) noexcept = default;

  [[nodiscard]] flatbuffers::FlatBufferBuilder& fbb() { return fbb_; }

  // Appends bytes to the payload and returns where the message finds them.
  [[nodiscard]] wire::PayloadRange add_payload(shared_bytes bytes);

  // The request body, built in fbb(). REQUIRES: called once, before finish().
  template <class T>
  void set_body(flatbuffers::Offset<T> body) {
    type_ = wire::RequestBodyTraits<T>::enum_value;
    body_ = body.Union();
  }
  [[nodiscard]] wire::RequestBody type() const { return type_; }

  // Builds the envelope. Called by the connection. REQUIRES: set_body() was called.
  void finish(std::uint64_t request_id, std::uint16_t version, std::string_view client_id);

  // The whole frame as buffers for a gather write: prefix, message, payload parts. Valid while
  // this builder lives and is not modified. REQUIRES: finish() was called.
  void append_buffers(std::vector<boost::asio::const_buffer>& out) const;
  [[nodiscard]] std::size_t frame_size() const;
  [[nodiscard]] std::size_t payload_size() const { return payload_size_; }

 private:
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<shared_bytes> payload_;
  std::size_t payload_size_ = 0;
  wire::RequestBody type_ = wire::RequestBody::NONE;
  flatbuffers::Offset<void> body_;
  std::array<std::byte, frame_format::prefix_size> prefix_{};
  bool finished_ = false;
};

}  // namespace sluice
