#pragma once
// Recycles the large buffers a client connection reads response frames into. A fetch answer is
// up to megabytes, and freshly allocated memory is faulted in page by page while the socket's
// bytes are copied into it: with four consumers and two fetches in flight, glibc returned freed
// answers to the kernel and took them back over and over (27 000-47 000 page faults per GiB
// replayed; 4 500 with the pool). A buffer from the pool keeps its pages.
//
//   auto pool = std::make_shared<receive_buffer_pool>();
//   std::shared_ptr<std::byte[]> b = pool->acquire(n);  // n bytes, contents undefined
//   // ... when the last copy of b is dropped (on any thread), it goes back to the pool.
//
// Small buffers (below min_pooled_bytes) are plain allocations. The pool keeps at most
// max_pooled buffers; a buffer returned to a full pool, or after the pool is gone, is freed.
//
// Threading: acquire() and the returns may run on any threads (a mutex guards the free list).

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace sluice {

class receive_buffer_pool : public std::enable_shared_from_this<receive_buffer_pool> {
 public:
  static constexpr std::size_t min_pooled_bytes = 64 * 1024;
  static constexpr std::size_t max_pooled = 4;

  // `bytes` bytes, not zeroed.
  [[nodiscard]] std::shared_ptr<std::byte[]> acquire(std::size_t bytes);

  // Buffers waiting for reuse (for tests).
  [[nodiscard]] std::size_t pooled() const;

 private:
  struct buffer {
    std::unique_ptr<std::byte[]> bytes;
    std::size_t capacity = 0;
  };
  void give_back(buffer b);

  mutable std::mutex mutex_;
  std::vector<buffer> free_;  // guarded by mutex_
};

}  // namespace sluice
