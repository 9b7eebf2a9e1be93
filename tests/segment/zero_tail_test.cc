// Zeros kept ahead of small durable appends (segment/zero_tail.h): how they are written, waited
// for and cut off, and what a partition log's files look like with them, closed and crashed.

#include "segment/zero_tail.h"

#include <doctest/doctest.h>
#include <fcntl.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <vector>

#include "log_fixture.h"
#include "protocol/record_batch.h"
#include "segment/io/backend.h"

namespace sluice::test {
namespace {

// Records the writes and truncations it is asked for and completes a write only when the test
// says so: the order in which zero_tail's writes end is the test's to choose.
class held_backend final : public io::backend {
 public:
  explicit held_backend(boost::asio::io_context& ctx) : ctx_(ctx) {}

  struct write {
    std::uint64_t pos;
    std::size_t bytes;
    io::write_handler handler;
  };
  std::vector<write> writes;
  std::vector<std::uint64_t> truncations;

  // Completes the oldest write still held.
  void finish_write() {
    REQUIRE(!held_.empty());
    auto w = std::move(writes[held_.front()]);
    held_.erase(held_.begin());
    boost::asio::post(ctx_, [w = std::move(w)]() mutable { w.handler(w.bytes); });
    ctx_.restart();
    ctx_.run();
  }

  [[nodiscard]] std::string_view name() const override { return "held"; }
  using backend::async_write_at;
  void async_write_at(int /*fd*/, std::uint64_t pos, io::write_buffers data,
                      std::string_view /*what*/, io::write_handler handler) override {
    std::size_t bytes = 0;
    for (const auto& b : data) bytes += b.size();
    held_.push_back(writes.size());
    writes.push_back({pos, bytes, std::move(handler)});
  }
  void async_datasync(int, std::string_view, io::sync_handler) override {}
  void async_fsync(int, std::string_view, io::sync_handler) override {}
  void async_sync_filesystem(int, std::string_view, io::sync_handler) override {}
  void async_start_writeback(int, std::uint64_t, std::uint64_t, std::string_view,
                             io::sync_handler) override {}
  void close_later(int, std::string_view) override {}
  void drop_cache_later(int, std::uint64_t, std::uint64_t, std::string_view) override {}
  result<std::size_t> read_at(int, std::uint64_t, std::span<std::byte>, std::string_view) override {
    return std::size_t{0};
  }
  result<void> truncate(int /*fd*/, std::uint64_t size, std::string_view /*what*/) override {
    truncations.push_back(size);
    return {};
  }
  result<void> datasync(int, std::string_view) override { return {}; }

 private:
  boost::asio::io_context& ctx_;
  std::vector<std::size_t> held_;
};

std::shared_ptr<log_file> scratch_file(const temp_dir& dir) {
  const auto path = dir.path() / "00000000000000000000.log";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  return std::make_shared<log_file>(fd, path);
}

bool zeros_between(const std::filesystem::path& p, std::uint64_t from, std::uint64_t to) {
  std::ifstream in(p, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  std::vector<char> bytes(to - from);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return in.gcount() == static_cast<std::streamsize>(bytes.size()) &&
         std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

std::filesystem::path active_log(log_fixture& f) {
  return f.log_dir() / (segment::file_stem(f.log->segment_bases().back()) + ".log");
}

// `n` small batches (two records of 300 bytes), each acknowledged before the next.
void append_small_batches(log_fixture& f, int n) {
  for (int i = 0; i < n; ++i) REQUIRE(f.append(make_batch(2, 300, i)).has_value());
}

// Closes the log: its .log ends where its batches do, and it reopens clean with all of them.
void check_clean_close_leaves_no_zeros(log_fixture& f) {
  const auto before = f.read_all(offset{0});
  const auto data_end = f.log->size_bytes();
  const auto log_path = active_log(f);
  f.close();
  CHECK(std::filesystem::file_size(log_path) == data_end);
  f.open();
  CHECK(f.log->last_recovery().clean);
  CHECK(f.read_all(offset{0}) == before);
}

}  // namespace

TEST_CASE("a small write starts a chunk of zeros after it, and writes into them wait for it") {
  temp_dir dir;
  boost::asio::io_context ctx;
  held_backend io(ctx);
  int written = 0;
  zero_tail zeros(io, [&](const std::shared_ptr<log_file>& cut) {
    CHECK(cut == nullptr);
    ++written;
  });
  auto file = scratch_file(dir);

  zeros.extend_after(file, 0, 1000);
  REQUIRE(io.writes.size() == 1);
  CHECK(io.writes[0].pos == 1000);
  CHECK(io.writes[0].pos + io.writes[0].bytes == zero_tail::chunk_bytes);  // to a page boundary
  CHECK(zeros.writing());
  // The next append lands on zeros still being written: it must wait; one before them need not.
  CHECK(zeros.must_wait(*file, 1000, 1500));
  CHECK_FALSE(zeros.must_wait(*file, 0, 1000));
  CHECK_FALSE(zeros.must_wait(*file, zero_tail::chunk_bytes, zero_tail::chunk_bytes + 100));
  CHECK_FALSE(zeros.must_wait(*scratch_file(dir), 1000, 1500));  // another file

  io.finish_write();
  CHECK(written == 1);
  CHECK_FALSE(zeros.writing());
  CHECK_FALSE(zeros.must_wait(*file, 1000, 1500));

  // More than half a chunk of zeros is still ahead: nothing new to write.
  zeros.extend_after(file, 1000, 2000);
  CHECK(io.writes.size() == 1);
  // Past the half-way mark, the next chunk starts where the zeros end.
  zeros.extend_after(file, zero_tail::chunk_bytes / 2 - 100, zero_tail::chunk_bytes / 2 + 1);
  REQUIRE(io.writes.size() == 2);
  CHECK(io.writes[1].pos == zero_tail::chunk_bytes);
  io.finish_write();
}

TEST_CASE("large writes get no zeros ahead") {
  temp_dir dir;
  boost::asio::io_context ctx;
  held_backend io(ctx);
  zero_tail zeros(io, [](const std::shared_ptr<log_file>&) {});
  zeros.extend_after(scratch_file(dir), 0, zero_tail::small_write_bytes + 1);
  CHECK(io.writes.empty());
}

TEST_CASE("trimming cuts the zeros off now, and again once a zero write in flight has ended") {
  temp_dir dir;
  boost::asio::io_context ctx;
  held_backend io(ctx);
  std::shared_ptr<log_file> cut_after_write;
  zero_tail zeros(io, [&](const std::shared_ptr<log_file>& cut) { cut_after_write = cut; });
  auto file = scratch_file(dir);
  zeros.extend_after(file, 0, 1000);
  REQUIRE(zeros.writing());
  CHECK(zeros.trim(file, 1000));
  CHECK(io.truncations == std::vector<std::uint64_t>{1000});
  io.finish_write();  // it may have landed after the first cut
  CHECK(io.truncations == std::vector<std::uint64_t>{1000, 1000});
  CHECK(cut_after_write == file);  // the owner syncs the second cut too
  // Trimmed, the file gets no zeros again until it is appended to again.
  CHECK_FALSE(zeros.trim(file, 1000));
}

TEST_CASE("a durable log keeps zeros ahead of its end and a clean close cuts them off") {
  log_fixture f;
  f.open();
  append_small_batches(f, 10);
  const auto data_end = f.log->size_bytes();
  const auto log_path = active_log(f);
  CHECK(std::filesystem::file_size(log_path) > data_end);
  CHECK(std::filesystem::file_size(log_path) % zero_tail::page_bytes == 0);
  CHECK(zeros_between(log_path, data_end, std::filesystem::file_size(log_path)));
  check_clean_close_leaves_no_zeros(f);
}

TEST_CASE("after a crash the zeros ahead are cut off without calling them damage") {
  log_fixture f;
  f.open();
  append_small_batches(f, 10);
  const auto before = f.read_all(offset{0});
  const auto log_path = active_log(f);
  const auto zeros = std::filesystem::file_size(log_path) - f.log->size_bytes();
  REQUIRE(zeros > 0);
  f.crash();

  f.open();
  const auto& rec = f.log->last_recovery();
  CHECK_FALSE(rec.clean);
  CHECK_FALSE(rec.cut_at.has_value());
  CHECK(rec.bytes_truncated == 0);
  CHECK(rec.zeros_trimmed == zeros);
  CHECK(f.read_all(offset{0}) == before);
  REQUIRE(f.append(make_batch(2, 300, 99)).has_value());
  CHECK(f.log->log_end_offset() == offset{22});
}

TEST_CASE("zeros ahead of a batch that does not end a page are a torn batch, not zeros kept") {
  log_fixture f;
  f.open();
  append_small_batches(f, 3);
  const auto data_end = f.log->size_bytes();
  const auto log_path = active_log(f);
  f.crash();
  // What a crash can leave: the file's new size made durable, the batch's bytes not.
  std::filesystem::resize_file(log_path, data_end + 100);
  f.open();
  CHECK(f.log->last_recovery().bytes_truncated == 100);
  CHECK(f.log->last_recovery().zeros_trimmed == 0);
}

TEST_CASE("an append landing on zeros still being written waits for them, then is stored") {
  log_fixture f;
  f.open();
  f.io->hold_zero_writes();
  REQUIRE(f.append(make_batch(2, 300, 0)).has_value());
  REQUIRE(f.io->held_zero_writes() == 1);  // the first small append started zeros after it
  const auto writes_before = f.io->writes();
  std::optional<result<append_info>> second;
  f.log->append(make_batch(2, 300, 1), [&](result<append_info> r) { second = std::move(r); });
  for (int i = 0; i < 20 && !second; ++i) {
    f.ctx.restart();
    f.ctx.run_one_for(std::chrono::milliseconds(10));
  }
  // Its bytes go where the held zeros will land: writing them first could be undone by the zeros.
  CHECK_FALSE(second.has_value());
  CHECK(f.io->writes() == writes_before);

  f.io->release_held_zero_writes();
  REQUIRE(f.run_until([&] { return second.has_value(); }));
  REQUIRE(second->has_value());
  CHECK((*second)->base_offset == offset{2});
  // The zeros did not land on it: it reads back whole, CRC and all.
  auto slice = f.log->read(offset{2}, 1 << 20);
  REQUIRE(slice.has_value());
  auto bytes = slice->read_bytes();
  REQUIRE(bytes.has_value());
  auto batch = record_batch_view::parse(*bytes);
  REQUIRE(batch.has_value());
  CHECK(batch->header().base_offset == offset{2});
  CHECK(batch->validate().has_value());
  append_small_batches(f, 3);
  CHECK(f.log->visible_end() == offset{10});
  check_clean_close_leaves_no_zeros(f);
}

TEST_CASE("a segment rolled while its zero write is in flight is cut again when it ends") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 1024;
  f.open(cfg);
  f.io->hold_zero_writes();
  REQUIRE(f.append(make_batch(2, 500, 0)).has_value());  // fills the segment; zeros held
  REQUIRE(f.io->held_zero_writes() == 1);
  REQUIRE(f.append(make_batch(2, 100, 1)).has_value());  // rolls, with the zero write in flight
  REQUIRE(f.log->segment_bases().size() == 2);
  const auto rolled = f.log_dir() / (segment::file_stem(f.log->segment_bases().front()) + ".log");
  const auto rolled_end = std::filesystem::file_size(rolled);  // the roll's cut
  const auto cuts = f.io->truncates();
  f.io->release_held_zero_writes();  // the zeros land past that cut...
  REQUIRE(f.run_until([&] { return f.io->truncates() == cuts + 1; }));
  CHECK(std::filesystem::file_size(rolled) == rolled_end);  // ...and are cut off again
  REQUIRE(f.append(make_batch(1, 10, 2)).has_value());
  f.crash();
  f.open(cfg);
  CHECK(f.log->visible_end() == offset{5});
  CHECK(std::filesystem::file_size(rolled) == rolled_end);
}

TEST_CASE("an append that waited for zeros in a segment rolled since gets no zeros after it") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 1024;
  f.open(cfg);
  f.io->hold_zero_writes();
  REQUIRE(f.append(make_batch(2, 300, 0)).has_value());
  REQUIRE(f.io->held_zero_writes() == 1);
  std::optional<result<append_info>> waiting;
  std::optional<result<append_info>> rolling;
  // Lands on the zeros in flight, so it waits for them...
  f.log->append(make_batch(1, 100, 1), [&](result<append_info> r) { waiting = std::move(r); });
  // ...while the next append rolls the segment it waits to be written to.
  f.log->append(make_batch(2, 300, 2), [&](result<append_info> r) { rolling = std::move(r); });
  REQUIRE(f.log->segment_bases().size() == 2);
  f.io->release_held_zero_writes();
  REQUIRE(f.run_until([&] { return waiting.has_value() && rolling.has_value(); }));
  REQUIRE(waiting->has_value());
  REQUIRE(rolling->has_value());
  f.io->release_held_zero_writes();  // any zeros started since
  f.ctx.restart();
  f.ctx.poll();  // a zero write posted but not started yet starts now
  REQUIRE(f.run_until([&] { return f.io->zero_writes_in_flight() == 0; }));
  const auto rolled = f.log_dir() / (segment::file_stem(f.log->segment_bases().front()) + ".log");
  const auto batches = make_batch(2, 300, 0).size() + make_batch(1, 100, 1).size();
  CHECK(std::filesystem::file_size(rolled) ==
        batches);  // the rolled segment ends where its batches do
  f.close();
  f.open(cfg);
  CHECK(f.log->last_recovery().batches_scanned == 0);  // a clean open: nothing re-scanned
  CHECK(f.log->visible_end() == offset{5});
}

TEST_CASE("a zero write that fails (a full disk) leaves the appends alone") {
  log_fixture f;
  f.open();
  io::fault_rule full;
  full.kind = io::fault_rule::op::zeros;
  full.err = ENOSPC;
  full.written = 4096;  // a page of zeros made it
  full.times = 0;
  f.io->add_rule(full);
  append_small_batches(f, 10);
  check_clean_close_leaves_no_zeros(f);
}

TEST_CASE("under flush=interval nothing is written ahead") {
  log_fixture f;
  log_config cfg;
  cfg.flush = *flush_policy::parse("interval:10");
  f.open(cfg);
  append_small_batches(f, 10);
  CHECK(std::filesystem::file_size(active_log(f)) == f.log->size_bytes());
}

}  // namespace sluice::test
