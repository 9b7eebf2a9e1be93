#pragma once
// Encoding and checking native-protocol frames (layout: frame_format.h). Pure functions over
// bytes; the connections on both sides (protocol/client_connection.h, broker/server/) use them.

#include <array>
#include <cstddef>
#include <cstdint>

#include "protocol/bytes.h"
#include "protocol/frame_format.h"
#include "protocol/result.h"
#include "protocol/sluice_generated.h"

namespace sluice {

struct frame_prefix {
  std::uint32_t frame_length = 0;    // bytes after the FrameLength field
  std::uint32_t message_length = 0;  // bytes of the message

  // Bytes still to read after the 8-byte prefix.
  [[nodiscard]] std::size_t body_size() const {
    return frame_length - frame_format::message_length_size;
  }
  [[nodiscard]] std::size_t payload_size() const { return body_size() - message_length; }
};

// The 8 prefix bytes of a frame holding a message and payload of these sizes.
[[nodiscard]] std::array<std::byte, frame_format::prefix_size> encode_frame_prefix(
    std::size_t message_size, std::size_t payload_size);

// Parses the first 8 bytes of a frame. Fails with wire::ErrorCode::corrupt_message when the
// lengths contradict each other or the message is empty, and with message_too_large when the
// frame exceeds max_frame_bytes (the whole frame, prefix included); the detail gives the sizes.
[[nodiscard]] result<frame_prefix> parse_frame_prefix(byte_span prefix_bytes,
                                                      std::uint32_t max_frame_bytes);

// A frame's body (what follows the prefix) checked and split into message and payload.
struct frame_body {
  byte_span message;
  byte_span payload;
};

// Verifies `message` as a wire::Request / wire::Response with the flatbuffers Verifier (bounded
// depth and table count). Fails with corrupt_message saying so.
[[nodiscard]] result<const wire::Request*> verify_request(byte_span message);
[[nodiscard]] result<const wire::Response*> verify_response(byte_span message);

// The bytes of `range` inside `payload`; corrupt_message when the range is missing or falls
// outside the payload. `what` names the field for the detail ("produce topic t partition 0").
[[nodiscard]] result<byte_span> payload_bytes(byte_span payload, const wire::PayloadRange* range,
                                              std::string_view what);

}  // namespace sluice
