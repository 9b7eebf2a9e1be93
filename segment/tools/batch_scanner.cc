#include "segment/tools/batch_scanner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "protocol/batch_header.h"
#include "protocol/errc.h"
#include "protocol/record_batch_format.h"
#include "segment/zero_tail.h"

namespace sluice::log_tool {

namespace {

error torn(std::string what) {
  return make_error(protocol_errc::batch_truncated, std::move(what));
}

}  // namespace

result<std::optional<batch_at>> batch_scanner::next() {
  auto found = next_frame();
  // A read error is not a frame that could be zeros.
  if (found || found.error().code.category() == boost::system::system_category()) return found;
  // What recovery calls zeros kept ahead, the tool does too.
  auto zeros = zeros_kept_ahead(file_.fd(), position_.value, file_.size(), file_.path());
  if (!zeros) return zeros.error();
  if (!*zeros) return found;
  return std::optional<batch_at>{};
}

result<std::optional<batch_at>> batch_scanner::next_frame() {
  const std::uint64_t left = file_.size() - std::min(file_.size(), position_.value);
  if (left == 0) return std::optional<batch_at>{};
  auto head = file_.read(position_.value, batch_header_size);
  if (!head) return head.error();
  if (head->size() < batch_header_size) {
    return torn(fmt::format("torn tail: {} bytes at the end, a batch header needs {}", head->size(),
                            batch_header_size));
  }
  auto header = parse_batch_header(*head);
  if (!header) return header.error();
  if (header->size_bytes() > left) {
    return torn(fmt::format("torn tail: the batch claims {} bytes, only {} are left in the file",
                            header->size_bytes(), left));
  }
  auto bytes = file_.read(position_.value, header->size_bytes());
  if (!bytes) return bytes.error();
  auto view = record_batch_view::parse(*bytes);
  if (!view) return view.error();
  batch_at found{position_, *view};
  position_ = position_ + header->size_bytes();
  return std::optional<batch_at>{found};
}

}  // namespace sluice::log_tool
