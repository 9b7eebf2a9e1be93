// libFuzzer target: arbitrary bytes as a batch a producer sent (parse, then every check the
// broker makes before an append) and as a buffer of batches a consumer fetched (batch_reader).
// Anything but a clean refusal (a crash, a sanitizer report, a hang) is a bug.

#include <cstddef>
#include <cstdint>

#include "protocol/record_batch.h"
#include "tests/fuzz/batch_checks.h"

namespace {

void check_one(sluice::byte_span bytes) {
  if (auto view = sluice::record_batch_view::parse(bytes)) {
    (void)view->validate(sluice::fuzz::max_decompressed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sluice::byte_span bytes(reinterpret_cast<const std::byte*>(data), size);
  check_one(bytes);
  sluice::fuzz::validate_batches(bytes);
  return 0;
}
