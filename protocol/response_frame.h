#pragma once
// A response frame as a client received it: the verified flatbuffers message and the payload
// (record batches). The bytes are shared, so records decoded from the payload can keep them
// alive after the frame object is gone (payload_owner()).

#include <memory>
#include <string_view>

#include "protocol/bytes.h"
#include "protocol/frame.h"
#include "protocol/result.h"
#include "protocol/sluice_generated.h"

namespace sluice {

class response_frame {
 public:
  // body: the frame's bytes after the 8-byte prefix. Verifies the message (corrupt_message).
  [[nodiscard]] static result<response_frame> parse(byte_buffer body, std::uint32_t message_length);
  // The same over `size` bytes that `body` owns (a client's receive buffer, allocated without
  // being zeroed first).
  [[nodiscard]] static result<response_frame> parse(std::shared_ptr<const std::byte[]> body,
                                                    std::size_t size, std::uint32_t message_length);

  [[nodiscard]] const wire::Response& response() const { return *response_; }
  // The body as T, or nullptr when the response carries another type (or none).
  template <class T>
  [[nodiscard]] const T* body() const {
    return response_->body_as<T>();
  }
  [[nodiscard]] byte_span payload() const { return payload_; }
  // The bytes a PayloadRange of this frame's message refers to; corrupt_message if outside.
  [[nodiscard]] result<byte_span> payload_bytes(const wire::PayloadRange* range,
                                                std::string_view what) const {
    return sluice::payload_bytes(payload_, range, what);
  }
  // Keeps the frame's bytes alive (spans from payload() stay valid while it is held).
  [[nodiscard]] const std::shared_ptr<const void>& payload_owner() const { return bytes_; }

 private:
  response_frame(std::shared_ptr<const void> bytes, const wire::Response* r, byte_span payload)
      : bytes_(std::move(bytes)), response_(r), payload_(payload) {}
  [[nodiscard]] static result<response_frame> parse(std::shared_ptr<const void> owner,
                                                    byte_span body, std::uint32_t message_length);

  std::shared_ptr<const void> bytes_;
  const wire::Response* response_;
  byte_span payload_;
};

}  // namespace sluice
