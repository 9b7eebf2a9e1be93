// libFuzzer target: arbitrary bytes as the only segment file of a partition that crashed (no
// checkpoint), opened by partition_log::open, which must recover it. Checked beyond "no crash":
// whatever recovery keeps must be whole, valid batches with contiguous offsets from 0.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "protocol/record_batch.h"
#include "segment/io/backend.h"
#include "segment/partition_log.h"
#include "tests/fuzz/batch_checks.h"

namespace {

namespace fs = std::filesystem;

struct fixture {
  fixture() { spdlog::set_level(spdlog::level::off); }  // recovery warns about every cut

  boost::asio::io_context ctx;
  std::unique_ptr<sluice::io::backend> io =
      sluice::io::make_backend(ctx, sluice::io::backend_kind::pwrite);
  fs::path dir =
      sluice::fuzz::scratch_root() / ("sluice-fuzz-recovery-" + std::to_string(::getpid()));
};

fixture& shared_fixture() {
  static fixture f;
  return f;
}

// Small index files (each open preallocates them) and an entry per 128 bytes, so that small
// inputs exercise the index rebuild too.
sluice::log_config small_config() {
  sluice::log_config c;
  c.index_max_bytes = 64 << 10;
  c.index_interval_bytes = 128;
  return c;
}

// Everything the recovered log serves: whole batches that validate, offsets without holes.
void check_recovered(const sluice::partition_log& log) {
  sluice::offset next = log.log_start_offset();
  while (next < log.log_end_offset()) {
    auto slice = log.read(next, 1 << 20);
    if (!slice || slice->empty()) std::abort();
    auto bytes = slice->read_bytes();
    if (!bytes) std::abort();
    sluice::batch_reader reader(*bytes);
    for (;;) {
      auto batch = reader.next();
      if (!batch) std::abort();  // recovery kept bytes that are not a batch
      if (!batch->has_value()) break;
      const auto& view = **batch;
      // The rule appends are held to (partition_log_append.cc), and so recovery too.
      if (!view.validate() || view.header().base_offset != next) std::abort();
      next = view.header().next_offset();
    }
    if (reader.remaining_bytes() != 0) std::abort();  // a partial batch was served
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fixture& f = shared_fixture();
  fs::remove_all(f.dir);
  fs::create_directories(f.dir);
  {
    std::ofstream out(f.dir / "00000000000000000000.log", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto log = sluice::partition_log::open(f.dir, small_config(), *f.io, f.ctx);
  if (!log) return 0;  // refusing to open is allowed; crashing is not
  check_recovered(**log);
  bool closed = false;
  (*log)->close([&closed](sluice::result<void>) { closed = true; });
  f.ctx.restart();
  while (!closed && f.ctx.run_one() > 0) {
  }
  return 0;
}
