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

constexpr std::size_t zero_check_bytes = 64 * 1024;

}  // namespace

result<bool> batch_scanner::only_zeros_left() {
  if (file_.size() % zero_tail::page_bytes != 0) return false;
  for (std::uint64_t pos = position_.value; pos < file_.size();) {
    auto bytes = file_.read(pos, zero_check_bytes);
    if (!bytes) return bytes.error();
    if (bytes->empty()) break;
    if (std::any_of(bytes->begin(), bytes->end(), [](std::byte b) { return b != std::byte{0}; }))
      return false;
    pos += bytes->size();
  }
  return true;
}

result<std::optional<batch_at>> batch_scanner::next() {
  auto found = next_frame();
  // A read error is not a frame that could be zeros.
  if (found || found.error().code.category() == boost::system::system_category()) return found;
  auto zeros = only_zeros_left();
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
