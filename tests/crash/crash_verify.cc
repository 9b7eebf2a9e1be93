// The ledger of acknowledgements and the check of a reopened log against it.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <memory>

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "segment/io/backend.h"
#include "segment/partition_log.h"
#include "segment/segment.h"
#include "tests/crash/crash_config.h"
#include "tests/crash/crash_harness.h"

namespace sluice::crash {
namespace fs = std::filesystem;

std::string describe(const acked_batch& b) {
  return fmt::format("[{}, {}] {} bytes crc32c {:08x}", b.base, b.last, b.size, b.crc);
}

void ledger::add(const std::vector<acked_batch>& acks, std::vector<std::string>& problems) {
  for (const acked_batch& a : acks) {
    auto [it, inserted] = batches_.try_emplace(a.base, a);
    if (!inserted && it->second != a) {
      problems.push_back(
          fmt::format("offset {} acknowledged twice: first {}, now {} (the first "
                      "batch was lost and its offset reused)",
                      a.base, describe(it->second), describe(a)));
      it->second = a;
    }
    end_ = std::max(end_, a.last + 1);
  }
}

namespace {

using stored_map = std::map<offset, acked_batch>;

// Checks one batch read back at `next` (the offset expected next) and records it.
void take_batch(const record_batch_view& view, offset& next, bool first, stored_map& stored,
                verify_result& v) {
  const batch_header& h = view.header();
  bool covers_start = first && h.base_offset <= next && h.last_offset() >= next;
  if (h.base_offset != next && !covers_start) v.holes.push_back({next, h.base_offset});
  if (!view.crc_matches()) {
    v.problems.push_back(fmt::format("batch at offset {} served with a bad CRC", h.base_offset));
  }
  stored[h.base_offset] = {h.base_offset, h.last_offset(), view.bytes().size(),
                           crc32c(view.bytes())};
  next = h.next_offset();
}

// Reads one slice at `next`; false when reading cannot go on.
bool take_slice(const partition_log& log, offset& next, stored_map& stored, verify_result& v) {
  auto slice = log.read(next, 1 << 20);
  if (!slice) {
    v.problems.push_back(
        fmt::format("read at offset {} failed: {}", next, slice.error().message()));
    return false;
  }
  if (slice->empty()) {  // below the visible end, yet nothing to read: a hole at the end
    v.holes.push_back({next, log.visible_end()});
    return false;
  }
  auto bytes = slice->read_bytes();
  if (!bytes) {
    v.problems.push_back(
        fmt::format("reading the slice at offset {} failed: {}", next, bytes.error().message()));
    return false;
  }
  batch_reader reader(*bytes);
  for (bool first = stored.empty();; first = false) {
    auto b = reader.next();
    if (!b || !*b) break;
    take_batch(**b, next, first, stored, v);
  }
  if (reader.remaining_bytes() != 0) {
    v.problems.push_back(
        fmt::format("the slice read at offset {} ends in {} bytes that are not "
                    "a whole batch",
                    slice->first_offset, reader.remaining_bytes()));
    return false;
  }
  return true;
}

// Everything readable from the log start to the visible end, by base offset.
stored_map read_log(const partition_log& log, verify_result& v) {
  stored_map stored;
  offset next = log.log_start_offset();
  while (next < log.visible_end() && take_slice(log, next, stored, v)) {
  }
  if (next > log.visible_end()) {
    v.problems.push_back(
        fmt::format("the last batch read ends at offset {}, past the visible "
                    "end {}",
                    next, log.visible_end()));
  }
  return stored;
}

void compare(const stored_map& stored, const ledger& acked, verify_result& v) {
  for (const auto& [base, a] : acked.batches()) {
    if (a.last < v.log_start) continue;  // retention removed it
    ++v.checked;
    auto it = stored.find(base);
    if (it == stored.end()) {
      v.lost.push_back(a);
    } else if (it->second != a) {
      v.corrupted.emplace_back(a, it->second);
    }
  }
  if (v.log_end < acked.end()) {
    v.problems.push_back(
        fmt::format("log end offset {} is below the last acknowledged offset "
                    "{} + 1",
                    v.log_end, acked.end() + -1));
  }
}

// Retention may delete a segment only while what is left stays >= retention.bytes; a crash
// can then cut at most the appends that were in flight.
void check_retention(const partition_log& log, std::int64_t retention_bytes, verify_result& v) {
  const auto slack = static_cast<std::int64_t>(appends_in_flight * (max_batch_bytes + 1024));
  const auto kept = static_cast<std::int64_t>(log.size_bytes());
  if (v.log_start > offset{0} && kept + slack < retention_bytes) {
    v.problems.push_back(
        fmt::format("retention deleted too much: log start {} but only {} bytes "
                    "kept (retention.bytes {})",
                    v.log_start, kept, retention_bytes));
  }
}

void finish(std::unique_ptr<partition_log> log, boost::asio::io_context& ctx, reopen_end end,
            verify_result& v) {
  if (end == reopen_end::crash) {
    log.reset();
    ctx.poll();
    return;
  }
  std::optional<result<void>> done;
  log->close([&](result<void> r) { done = std::move(r); });
  while (!done && ctx.run_one() > 0) {
  }
  if (!done || !*done) {
    v.problems.push_back("close after verification failed: " +
                         (done ? done->error().message() : std::string("never completed")));
  }
}

}  // namespace

verify_result verify_log(const fs::path& dir, const ledger& acked, std::int64_t retention_bytes,
                         reopen_end end) {
  verify_result v;
  boost::asio::io_context ctx;
  auto io = io::make_backend(ctx);
  recycle_small_segments();
  auto opened = partition_log::open(dir, crash_log_config(retention_bytes), *io, ctx);
  if (!opened) {
    v.problems.push_back("reopen failed: " + opened.error().message());
    return v;
  }
  const partition_log& log = **opened;
  v.log_start = log.log_start_offset();
  v.log_end = log.log_end_offset();
  v.bytes_truncated = log.last_recovery().bytes_truncated;
  if (log.visible_end() != v.log_end) {
    v.problems.push_back(fmt::format("after open the visible end {} differs from the log end {}",
                                     log.visible_end(), v.log_end));
  }
  compare(read_log(log, v), acked, v);
  check_retention(log, retention_bytes, v);
  finish(std::move(*opened), ctx, end, v);
  return v;
}

void tear_tail(const fs::path& dir, std::mt19937_64& rng) {
  std::optional<offset> newest;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto base = segment::parse_file_name(entry.path().filename().string(), ".log");
    if (base && (!newest || *base > *newest)) newest = base;
  }
  if (!newest) return;
  auto path = dir / (segment::file_stem(*newest) + ".log");
  std::string garbage(1 + rng() % 200, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  (void)::write(fd, garbage.data(), garbage.size());
  ::close(fd);
}

}  // namespace sluice::crash
