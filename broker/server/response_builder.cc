#include "broker/server/response_builder.h"

#include "protocol/frame.h"

namespace sluice {

wire::PayloadRange response_builder::add_slice(log_slice slice) {
  SLUICE_ASSERT(payload_size_ + slice.size <= UINT32_MAX);
  wire::PayloadRange range(static_cast<std::uint32_t>(payload_size_),
                           static_cast<std::uint32_t>(slice.size));
  payload_size_ += slice.size;
  if (!slice.empty()) slices_.push_back(std::move(slice));
  return range;
}

void response_builder::finish_error(std::uint64_t request_id, wire::ErrorCode code,
                                    std::string_view message) {
  finish_envelope(request_id, wire::ResponseBody::NONE, 0, code, message);
}

void response_builder::finish_envelope(std::uint64_t request_id, wire::ResponseBody type,
                                       flatbuffers::Offset<void> body, wire::ErrorCode code,
                                       std::string_view message) {
  auto msg = message.empty() ? flatbuffers::Offset<flatbuffers::String>()
                             : fbb_.CreateString(message.data(), message.size());
  fbb_.Finish(wire::CreateResponse(fbb_, request_id, code, msg, type, body));
  prefix_ = encode_frame_prefix(fbb_.GetSize(), payload_size_);
}

byte_span response_builder::message() const {
  return {reinterpret_cast<const std::byte*>(fbb_.GetBufferPointer()), fbb_.GetSize()};
}

std::size_t response_builder::frame_size() const {
  return prefix_.size() + fbb_.GetSize() + payload_size_;
}

}  // namespace sluice
