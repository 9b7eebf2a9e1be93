#pragma once
// A read result: whole batches as a byte range of one segment file. The file stays open while
// the slice lives (even if retention deletes the segment), so it can be sent with sendfile or
// read into memory later.

#include <cstdint>
#include <memory>

#include "protocol/bytes.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"

namespace sluice {

class log_file;

struct log_slice {
  std::shared_ptr<log_file> file;  // null for an empty slice
  file_pos position{0};
  std::size_t size = 0;
  offset first_offset{0};  // base offset of the first batch in the slice
  // Where a reader continues after this slice: the base offset of the batch after it, or one
  // past its last batch's last offset. An empty slice: the offset that was asked for.
  offset next_offset{0};

  [[nodiscard]] bool empty() const { return size == 0; }
  // Reads the slice's bytes (pread).
  [[nodiscard]] result<byte_buffer> read_bytes() const;
};

}  // namespace sluice
