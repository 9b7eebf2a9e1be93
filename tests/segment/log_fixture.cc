#include "log_fixture.h"

#include <doctest/doctest.h>

namespace sluice::test {

byte_buffer make_batch(int records, std::size_t value_size, std::uint64_t seed,
                       std::int64_t timestamp) {
  record_batch_builder builder;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < records; ++i) {
    std::string key = "key-" + std::to_string(seed) + "-" + std::to_string(i);
    std::string value(value_size, '\0');
    for (auto& c : value) c = static_cast<char>('a' + rng() % 26);
    builder.add(timestamp + i, as_bytes(key), as_bytes(value));
  }
  return builder.build();
}

int open_files(const std::filesystem::path& dir, const std::string& suffix) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.starts_with(dir.string() + "/") && target.ends_with(suffix)) ++n;
  }
  return n;
}

int open_deleted_files(const std::filesystem::path& dir, const std::string& suffix) {
  return open_files(dir, suffix + " (deleted)");
}

// With the temp directory as sync root, as the broker's shards have their data directory: logs
// under flush=interval sync through syncfs.
log_fixture::log_fixture(const std::filesystem::path& parent)
    : dir(parent),
      io(std::make_unique<io::faulty_backend>(
          ctx, io::make_backend(ctx, io::backend_kind::automatic, dir.path()))) {}

log_fixture::~log_fixture() {
  if (log) close();
}

partition_log& log_fixture::open(log_config cfg) {
  config = cfg;
  log.reset();
  auto opened = partition_log::open(log_dir(), cfg, *io, ctx, clk);
  REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().message()));
  log = std::move(*opened);
  return *log;
}

void log_fixture::crash() {
  log.reset();
  ctx.restart();
  ctx.poll();  // handlers of abandoned operations find the log gone
}

void log_fixture::close() {
  std::optional<result<void>> done;
  log->close([&](result<void> r) { done = std::move(r); });
  ctx.restart();
  while (!done && ctx.run_one() > 0) {
  }
  REQUIRE(done.has_value());
  CHECK_MESSAGE(done->has_value(), (*done ? "" : done->error().message()));
  log.reset();
}

result<append_info> log_fixture::append(byte_buffer batch) {
  std::optional<result<append_info>> done;
  log->append(std::move(batch), [&](result<append_info> r) { done = std::move(r); });
  ctx.restart();
  while (!done && ctx.run_one() > 0) {
  }
  REQUIRE(done.has_value());
  return std::move(*done);
}

byte_buffer log_fixture::read_all(offset from) {
  byte_buffer out;
  while (from < log->visible_end()) {
    auto slice = log->read(from, 1 << 20);
    REQUIRE_MESSAGE(slice.has_value(), (slice ? "" : slice.error().message()));
    REQUIRE(!slice->empty());
    auto bytes = slice->read_bytes();
    REQUIRE(bytes.has_value());
    // Advance past the last batch in the slice.
    byte_span rest(*bytes);
    while (!rest.empty()) {
      auto h = parse_batch_header(rest);
      REQUIRE(h.has_value());
      from = h->next_offset();
      rest = rest.subspan(h->size_bytes());
    }
    out.insert(out.end(), bytes->begin(), bytes->end());
  }
  return out;
}

std::uint64_t append_and_wait(log_fixture& f, int count, std::size_t value_size) {
  std::uint64_t bytes = 0;
  int done = 0;
  for (int i = 0; i < count; ++i) {
    auto batch = make_batch(1, value_size, static_cast<std::uint64_t>(i));
    bytes += batch.size();
    f.log->append(std::move(batch), [&](result<append_info> r) {
      REQUIRE(r.has_value());
      ++done;
    });
  }
  f.ctx.restart();
  while (done < count && f.ctx.run_one() > 0) {
  }
  REQUIRE(done == count);
  return bytes;
}

}  // namespace sluice::test
