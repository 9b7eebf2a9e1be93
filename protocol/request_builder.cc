#include "protocol/request_builder.h"

#include "protocol/frame.h"
#include "protocol/result.h"

namespace sluice {

wire::PayloadRange request_builder::add_payload(shared_bytes bytes) {
  SLUICE_ASSERT(!finished_);
  SLUICE_ASSERT(payload_size_ + bytes->size() <= UINT32_MAX);
  wire::PayloadRange range(static_cast<std::uint32_t>(payload_size_),
                           static_cast<std::uint32_t>(bytes->size()));
  payload_size_ += bytes->size();
  payload_.push_back(std::move(bytes));
  return range;
}

void request_builder::finish(std::uint64_t request_id, std::uint16_t version,
                             std::string_view client_id) {
  SLUICE_ASSERT(!finished_ && type_ != wire::RequestBody::NONE);
  auto id = fbb_.CreateString(client_id.data(), client_id.size());
  fbb_.Finish(wire::CreateRequest(fbb_, request_id, version, id, type_, body_));
  prefix_ = encode_frame_prefix(fbb_.GetSize(), payload_size_);
  finished_ = true;
}

void request_builder::append_buffers(std::vector<boost::asio::const_buffer>& out) const {
  SLUICE_ASSERT(finished_);
  out.emplace_back(prefix_.data(), prefix_.size());
  out.emplace_back(fbb_.GetBufferPointer(), fbb_.GetSize());
  for (const auto& part : payload_) {
    if (!part->empty()) out.emplace_back(part->data(), part->size());
  }
}

std::size_t request_builder::frame_size() const {
  return prefix_.size() + fbb_.GetSize() + payload_size_;
}

}  // namespace sluice
