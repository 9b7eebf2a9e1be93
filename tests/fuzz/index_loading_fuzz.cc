// libFuzzer target: a cleanly closed log, whose index files are trusted on open (nothing is
// re-scanned after a clean shutdown), gets one of them replaced by arbitrary bytes. The first
// input byte picks the file (each segment's .index, then .timeindex), the rest is its content.
// Differential oracle: the log must still open, and every read and timestamp lookup must answer
// exactly what the same log with intact indexes answers. An index may make a lookup slower,
// never wrong.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "segment/io/backend.h"
#include "segment/partition_log.h"
#include "tests/fuzz/batch_checks.h"
#include "tests/fuzz/closed_log_template.h"

namespace {

namespace fs = std::filesystem;
using sluice::byte_buffer;
using sluice::offset;

// What a log answers, read by read: the bytes of read(o, max) for every offset and two sizes,
// then offset_for_timestamp for every timestamp around the records'. A failed call is recorded
// as its message, so "fails the same way" also matches.
struct answers {
  std::vector<std::string> reads;
  std::vector<std::string> timestamps;
  offset start{0}, end{0};
};

std::string as_string(const sluice::result<byte_buffer>& bytes) {
  if (!bytes) return "error: " + bytes.error().message();
  return {reinterpret_cast<const char*>(bytes->data()), bytes->size()};
}

answers ask(const sluice::partition_log& log) {
  answers a;
  a.start = log.log_start_offset();
  a.end = log.log_end_offset();
  for (offset o = a.start; o <= a.end; o = o + 1) {
    for (std::size_t max_bytes : {std::size_t{1}, std::size_t{300}}) {
      auto slice = log.read(o, max_bytes);
      a.reads.push_back(slice ? as_string(slice->read_bytes())
                              : "error: " + slice.error().message());
    }
  }
  for (std::int64_t ts = sluice::fuzz::first_timestamp - 50;
       ts <= sluice::fuzz::last_timestamp + 10; ts += 3) {
    auto o = log.offset_for_timestamp(ts);
    a.timestamps.push_back(!o   ? "error: " + o.error().message()
                           : *o ? std::to_string((*o)->value)
                                : "none");
  }
  return a;
}

void close_log(std::unique_ptr<sluice::partition_log> log, boost::asio::io_context& ctx) {
  bool closed = false;
  log->close([&closed](sluice::result<void>) { closed = true; });
  ctx.restart();
  while (!closed && ctx.run_one() > 0) {
  }
}

// Says what differs before aborting, so a crash input explains itself when replayed.
void fail(const std::string& why) {
  std::fprintf(stderr, "fuzz_index_loading: %s\n", why.c_str());
  std::abort();
}

// A read's answer for a message: its size and the base offset of its first batch.
std::string describe(const std::string& read) {
  if (read.starts_with("error: ") || read.size() < 8) return fmt::format("'{}'", read);
  std::int64_t base = 0;
  for (int i = 0; i < 8; ++i)
    base = base << 8 | static_cast<std::uint8_t>(read[static_cast<std::size_t>(i)]);
  return fmt::format("{} bytes from base offset {}", read.size(), base);
}

void check_same(const answers& got, const answers& want) {
  if (got.start != want.start || got.end != want.end) {
    fail(fmt::format("offsets [{}, {}) instead of [{}, {})", got.start.value, got.end.value,
                     want.start.value, want.end.value));
  }
  for (std::size_t i = 0; i < want.reads.size(); ++i) {
    if (got.reads[i] != want.reads[i]) {
      fail(fmt::format("read of offset {} (max {} bytes) answered {} instead of {}",
                       want.start.value + static_cast<std::int64_t>(i / 2), i % 2 ? 300 : 1,
                       describe(got.reads[i]), describe(want.reads[i])));
    }
  }
  for (std::size_t i = 0; i < want.timestamps.size(); ++i) {
    if (got.timestamps[i] != want.timestamps[i]) {
      fail(fmt::format("offset_for_timestamp({}) answered {} instead of {}",
                       sluice::fuzz::first_timestamp - 50 + 3 * static_cast<std::int64_t>(i),
                       got.timestamps[i], want.timestamps[i]));
    }
  }
}

struct fixture {
  fixture() {
    spdlog::set_level(spdlog::level::off);  // every rebuilt index is a warning
    fs::remove_all(root);
    sluice::fuzz::write_closed_log(root / "template", *io, ctx);
    files = sluice::fuzz::index_files(root / "template");
    copy_template();
    auto log = sluice::partition_log::open(work, sluice::fuzz::closed_log_config(), *io, ctx);
    if (!log) fail("the intact template does not open: " + log.error().message());
    expected = ask(**log);
    close_log(std::move(*log), ctx);
  }
  ~fixture() { fs::remove_all(root); }

  void copy_template() {
    fs::remove_all(work);
    fs::copy(root / "template", work);
  }

  boost::asio::io_context ctx;
  std::unique_ptr<sluice::io::backend> io =
      sluice::io::make_backend(ctx, sluice::io::backend_kind::pwrite);
  fs::path root =
      sluice::fuzz::scratch_root() / ("sluice-fuzz-index-" + std::to_string(::getpid()));
  fs::path work = root / "work";
  std::vector<fs::path> files;
  answers expected;
};

fixture& shared_fixture() {
  static fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  fixture& f = shared_fixture();
  f.copy_template();
  const fs::path target = f.work / f.files[data[0] % f.files.size()].filename();
  {
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  auto log = sluice::partition_log::open(f.work, sluice::fuzz::closed_log_config(), *f.io, f.ctx);
  // A damaged index must be rebuilt, not make the log unopenable.
  if (!log) fail("open failed: " + log.error().message());
  check_same(ask(**log), f.expected);
  close_log(std::move(*log), f.ctx);
  return 0;
}
