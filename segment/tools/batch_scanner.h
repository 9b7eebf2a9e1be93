#pragma once
// Walks the batches of one .log file front to back, checking only each batch's frame (header
// fields, enough bytes); CRC and records are the caller's business. Read-only.

#include <optional>

#include "protocol/record_batch.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"
#include "segment/tools/log_file_reader.h"

namespace sluice::log_tool {

// A whole batch and where it starts. `view` points into the reader's window: valid until the
// scanner's next call.
struct batch_at {
  file_pos position;
  record_batch_view view;
};

class batch_scanner {
 public:
  // `file` must outlive the scanner.
  explicit batch_scanner(log_file_reader& file) : file_(file) {}

  // The batch at position(), or nullopt at the end of the file or of its batches when only zeros
  // to a page boundary follow them (the space the broker keeps ahead of appends,
  // segment/zero_tail.h, which a crash leaves behind). Fails without advancing when the
  // bytes at position() are not a whole batch: protocol_errc::batch_truncated for a torn tail
  // (too few bytes left for the header or for the length it claims), bad_magic / bad_length
  // for a broken frame; or with an errno error when reading fails.
  [[nodiscard]] result<std::optional<batch_at>> next();

  // Where the next batch starts; after a failure, where the bad bytes start.
  [[nodiscard]] file_pos position() const { return position_; }

 private:
  log_file_reader& file_;
  [[nodiscard]] result<std::optional<batch_at>> next_frame();

  file_pos position_{0};
};

}  // namespace sluice::log_tool
