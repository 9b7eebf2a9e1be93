#include "protocol/client/receive_buffer_pool.h"

#include <algorithm>

namespace sluice {
namespace {

// Rounded up so that answers of slightly different sizes can use each other's buffers.
constexpr std::size_t rounding = 64 * 1024;

}  // namespace

std::shared_ptr<std::byte[]> receive_buffer_pool::acquire(std::size_t bytes) {
  if (bytes < min_pooled_bytes) return std::make_shared_for_overwrite<std::byte[]>(bytes);
  buffer b;
  {
    const std::lock_guard lock(mutex_);
    // The smallest that fits, so large buffers stay for large answers.
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->capacity >= bytes && (best == free_.end() || it->capacity < best->capacity)) {
        best = it;
      }
    }
    if (best != free_.end()) {
      b = std::move(*best);
      free_.erase(best);
    }
  }
  if (!b.bytes) {
    b.capacity = (bytes + rounding - 1) / rounding * rounding;
    b.bytes = std::make_unique_for_overwrite<std::byte[]>(b.capacity);
  }
  std::byte* data = b.bytes.get();
  // The deleter owns the buffer until the last reference goes, then hands it back.
  return {data, [pool = weak_from_this(),
                 held = std::make_shared<buffer>(std::move(b))](std::byte*) mutable {
            if (auto p = pool.lock()) p->give_back(std::move(*held));
          }};
}

void receive_buffer_pool::give_back(buffer b) {
  const std::lock_guard lock(mutex_);
  if (free_.size() < max_pooled) {
    free_.push_back(std::move(b));
    return;
  }
  // Full: keep the larger buffers, they serve every answer the smaller ones could.
  auto smallest = std::min_element(free_.begin(), free_.end(), [](const auto& x, const auto& y) {
    return x.capacity < y.capacity;
  });
  if (smallest->capacity < b.capacity) *smallest = std::move(b);
}

std::size_t receive_buffer_pool::pooled() const {
  const std::lock_guard lock(mutex_);
  return free_.size();
}

}  // namespace sluice
