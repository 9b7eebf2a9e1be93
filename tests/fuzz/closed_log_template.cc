#include "tests/fuzz/closed_log_template.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "protocol/record_batch_builder.h"
#include "segment/partition_log.h"

namespace sluice::fuzz {
namespace fs = std::filesystem;

namespace {

constexpr int batch_count = 64;

// Batch i holds 1–3 records; timestamps mostly rise, but every fifth batch has a record from
// the past, so the time index's "largest so far" differs from the batch's own.
byte_buffer template_batch(int i) {
  record_batch_builder b(record_batch_builder_options{});
  const int records = 1 + i % 3;
  for (int r = 0; r < records; ++r) {
    std::int64_t ts = first_timestamp + 10 * i + r;
    if (i % 5 == 4 && r == 0) ts -= 35;
    const std::string value(static_cast<std::size_t>(20 + (i * 7 + r) % 40),
                            static_cast<char>('a' + i % 26));
    b.add(ts, std::nullopt,
          byte_span(reinterpret_cast<const std::byte*>(value.data()), value.size()), {});
  }
  return b.build(offset{0});
}

void run_until(boost::asio::io_context& ctx, const bool& done) {
  ctx.restart();
  while (!done && ctx.run_one() > 0) {
  }
  if (!done) throw std::runtime_error("closed log template: the io_context ran dry");
}

}  // namespace

log_config closed_log_config() {
  log_config c;
  c.segment_bytes = 2048;
  c.index_interval_bytes = 128;
  c.index_max_bytes = 4096;
  return c;
}

void write_closed_log(const fs::path& dir, io::backend& io, boost::asio::io_context& ctx) {
  auto log = partition_log::open(dir, closed_log_config(), io, ctx).value();
  for (int i = 0; i < batch_count; ++i) {
    bool appended = false;
    log->append(template_batch(i), [&appended](result<append_info> r) {
      if (!r)
        throw std::runtime_error("closed log template: append failed: " + r.error().message());
      appended = true;
    });
    run_until(ctx, appended);
  }
  bool closed = false;
  log->close([&closed](result<void> r) {
    if (!r) throw std::runtime_error("closed log template: close failed: " + r.error().message());
    closed = true;
  });
  run_until(ctx, closed);
}

std::vector<fs::path> index_files(const fs::path& dir) {
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") logs.push_back(e.path());
  }
  std::sort(logs.begin(), logs.end());
  std::vector<fs::path> files;
  for (const auto& log : logs) {
    files.push_back(fs::path(log).replace_extension(".index"));
    files.push_back(fs::path(log).replace_extension(".timeindex"));
  }
  return files;
}

}  // namespace sluice::fuzz
