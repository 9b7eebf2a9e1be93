#include "protocol/frame.h"

#include <fmt/format.h>

#include "protocol/wire_errc.h"

namespace sluice {

std::array<std::byte, frame_format::prefix_size> encode_frame_prefix(std::size_t message_size,
                                                                     std::size_t payload_size) {
  std::array<std::byte, frame_format::prefix_size> out{};
  const auto frame_length = frame_format::message_length_size + message_size + payload_size;
  SLUICE_ASSERT(frame_length <= UINT32_MAX);
  store_be(out.data(), static_cast<std::uint32_t>(frame_length));
  store_be(out.data() + frame_format::frame_length_size, static_cast<std::uint32_t>(message_size));
  return out;
}

result<frame_prefix> parse_frame_prefix(byte_span prefix_bytes, std::uint32_t max_frame_bytes) {
  SLUICE_ASSERT(prefix_bytes.size() >= frame_format::prefix_size);
  frame_prefix p;
  p.frame_length = load_be<std::uint32_t>(prefix_bytes.data());
  p.message_length = load_be<std::uint32_t>(prefix_bytes.data() + frame_format::frame_length_size);
  const std::uint64_t whole = std::uint64_t{p.frame_length} + frame_format::frame_length_size;
  if (whole > max_frame_bytes) {
    return make_error(
        wire::ErrorCode::message_too_large,
        fmt::format("frame of {} bytes exceeds the limit of {} bytes", whole, max_frame_bytes));
  }
  if (p.frame_length < frame_format::message_length_size) {
    return make_error(
        wire::ErrorCode::corrupt_message,
        fmt::format("frame length {} is shorter than its message length field", p.frame_length));
  }
  if (p.message_length == 0 || p.message_length > p.body_size()) {
    return make_error(wire::ErrorCode::corrupt_message,
                      fmt::format("message length {} does not fit a frame of {} bytes",
                                  p.message_length, p.frame_length));
  }
  return p;
}

namespace {

template <class T>
result<const T*> verify_root(byte_span message, const char* what) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(message.data());
  flatbuffers::Verifier verifier(data, message.size(), frame_format::verifier_max_depth,
                                 frame_format::verifier_max_tables);
  if (!verifier.VerifyBuffer<T>(nullptr)) {
    return make_error(
        wire::ErrorCode::corrupt_message,
        fmt::format("{} of {} bytes fails flatbuffers verification", what, message.size()));
  }
  return flatbuffers::GetRoot<T>(data);
}

}  // namespace

result<const wire::Request*> verify_request(byte_span message) {
  return verify_root<wire::Request>(message, "request message");
}

result<const wire::Response*> verify_response(byte_span message) {
  return verify_root<wire::Response>(message, "response message");
}

result<byte_span> payload_bytes(byte_span payload, const wire::PayloadRange* range,
                                std::string_view what) {
  if (range == nullptr) {
    return make_error(wire::ErrorCode::invalid_request, fmt::format("{}: no records", what));
  }
  const std::uint64_t end = std::uint64_t{range->offset()} + range->length();
  if (end > payload.size()) {
    return make_error(wire::ErrorCode::corrupt_message,
                      fmt::format("{}: payload range [{}, {}) outside a payload of {} bytes", what,
                                  range->offset(), end, payload.size()));
  }
  return payload.subspan(range->offset(), range->length());
}

}  // namespace sluice
