// libFuzzer target: arbitrary bytes as a batch a producer sent (parse, then every check the
// broker makes before an append) and as a buffer of batches a consumer fetched (batch_reader).
// Anything but a clean refusal (a crash, a sanitizer report, a hang) is a bug.

#include <cstddef>
#include <cstdint>

#include "protocol/record_batch.h"

namespace {

// Bounds decompression so a zstd bomb costs a refusal, not the fuzzer's memory.
constexpr std::size_t max_decompressed = std::size_t{1} << 20;

void check_one(sluice::byte_span bytes) {
  if (auto view = sluice::record_batch_view::parse(bytes)) (void)view->validate(max_decompressed);
}

void read_all(sluice::byte_span bytes) {
  sluice::batch_reader reader(bytes);
  for (;;) {
    auto next = reader.next();
    if (!next || !next->has_value()) return;
    (void)(*next)->validate(max_decompressed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sluice::byte_span bytes(reinterpret_cast<const std::byte*>(data), size);
  check_one(bytes);
  read_all(bytes);
  return 0;
}
