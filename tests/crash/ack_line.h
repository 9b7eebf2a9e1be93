#pragma once
// The line protocol between sluice-crash-appender and the crash test. The appender writes one
// line per acknowledged append to its ack fd, with one write(2) per line (shorter than
// PIPE_BUF, so a line is never interleaved, only possibly cut short by the kill):
//
//   ack <base offset> <last offset> <size in bytes> <crc32c of the batch as stored, hex>
//   open <log start> <log end> <bytes cut> <why>  after partition_log::open (recovery) succeeded
//   kill <kill point>                            a kill point fires (raise(SIGKILL) follows)
//
// "As stored" means with the base offset and leader epoch (0) stamped, byte for byte what a
// read of that offset must return. Only a line ending in '\n' counts.

#include <fmt/format.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/strong_types.h"

namespace sluice::crash {

struct acked_batch {
  offset base;
  offset last;
  std::size_t size = 0;
  std::uint32_t crc = 0;
  bool operator==(const acked_batch&) const = default;
};

[[nodiscard]] inline std::string format_ack_line(const acked_batch& b) {
  return fmt::format("ack {} {} {} {:08x}\n", b.base, b.last, b.size, b.crc);
}

namespace detail {

// Parses one unsigned or signed number at the front of `s` and drops it plus one space.
template <class T>
bool take_number(std::string_view& s, T& out, int base = 10) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  if (ec != std::errc{}) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return true;
}

}  // namespace detail

// Parses "ack ..." without the trailing newline; nullopt for any other line.
[[nodiscard]] inline std::optional<acked_batch> parse_ack_line(std::string_view line) {
  constexpr std::string_view prefix = "ack ";
  if (!line.starts_with(prefix)) return std::nullopt;
  line.remove_prefix(prefix.size());
  acked_batch b;
  bool ok = detail::take_number(line, b.base.value) && detail::take_number(line, b.last.value) &&
            detail::take_number(line, b.size) && detail::take_number(line, b.crc, 16);
  if (!ok || !line.empty()) return std::nullopt;
  return b;
}

}  // namespace sluice::crash
