#pragma once
// A writable run of bytes together with what keeps it alive: a buffer of its own, or a part of a
// larger buffer someone else shares. The broker appends a produce request's batch straight from
// the frame it arrived in (no copy of the batch); tests and tools hand over a byte_buffer.
//
// Copies share the bytes (the log stamps offsets into them in place): whoever holds one may
// write, so a part must not overlap any other part handed out of the same buffer.

#include <memory>
#include <utility>

#include "protocol/bytes.h"

namespace sluice {

class held_bytes {
 public:
  held_bytes() = default;
  // Takes the buffer over. Implicit: a buffer of one's own is how most callers hold a batch.
  held_bytes(byte_buffer own)  // NOLINT(google-explicit-constructor)
  {
    auto buffer = std::make_shared<byte_buffer>(std::move(own));
    bytes_ = *buffer;
    owner_ = std::move(buffer);
  }
  // `part` lies inside memory that `owner` keeps alive.
  held_bytes(std::shared_ptr<void> owner, mutable_byte_span part)
      : owner_(std::move(owner)), bytes_(part) {}

  // `size` bytes of its own, not zeroed: for a buffer about to be read or written over whole
  // (a received frame), where zeroing cost a memset of every request's bytes.
  static held_bytes uninitialized(std::size_t size) {
    auto buffer = std::make_shared_for_overwrite<std::byte[]>(size);
    const mutable_byte_span bytes(buffer.get(), size);
    return {std::move(buffer), bytes};
  }

  // A part of these bytes, kept alive by the same owner. `sub` must lie inside span().
  [[nodiscard]] held_bytes part(mutable_byte_span sub) const { return {owner_, sub}; }

  [[nodiscard]] std::byte* data() const { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] mutable_byte_span span() const { return bytes_; }
  operator mutable_byte_span() const { return bytes_; }  // NOLINT(google-explicit-constructor)
  operator byte_span() const { return bytes_; }          // NOLINT(google-explicit-constructor)

 private:
  std::shared_ptr<void> owner_;
  mutable_byte_span bytes_;
};

}  // namespace sluice
