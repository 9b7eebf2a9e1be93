#pragma once
// A response being built on the broker: the flatbuffers message plus payload parts that are
// slices of segment files, sent with sendfile after the message (frame_format.h).

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/frame_format.h"
#include "protocol/sluice_generated.h"
#include "segment/log_slice.h"

namespace sluice {

class response_builder {
 public:
  response_builder() : fbb_(1024) {}
  response_builder(response_builder&&) noexcept = default;
  response_builder& operator=(response_builder&&) noexcept = default;

  [[nodiscard]] flatbuffers::FlatBufferBuilder& fbb() { return fbb_; }

  // Appends a file slice to the payload; returns where the message finds it.
  [[nodiscard]] wire::PayloadRange add_slice(log_slice slice);

  template <class T>
  void finish(std::uint64_t request_id, flatbuffers::Offset<T> body) {
    finish_envelope(request_id, wire::ResponseBodyTraits<T>::enum_value, body.Union(),
                    wire::ErrorCode::none, {});
  }
  // The same from a flatbuffers object-API value (e.g. wire::ProduceResponseT).
  template <class NativeT>
  void finish_object(std::uint64_t request_id, const NativeT& body) {
    finish(request_id, NativeT::TableType::Pack(fbb_, &body));
  }
  // A request-level error: no body.
  void finish_error(std::uint64_t request_id, wire::ErrorCode code, std::string_view message);

  // Prefix + message, contiguous in memory (the payload follows from the slices).
  [[nodiscard]] std::array<std::byte, frame_format::prefix_size>& prefix() { return prefix_; }
  [[nodiscard]] byte_span message() const;
  [[nodiscard]] const std::vector<log_slice>& slices() const { return slices_; }
  [[nodiscard]] std::size_t frame_size() const;

 private:
  void finish_envelope(std::uint64_t request_id, wire::ResponseBody type,
                       flatbuffers::Offset<void> body, wire::ErrorCode code,
                       std::string_view message);

  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<log_slice> slices_;
  std::size_t payload_size_ = 0;
  std::array<std::byte, frame_format::prefix_size> prefix_{};
};

}  // namespace sluice
