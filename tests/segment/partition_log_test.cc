// Behaviour of the partition log: offsets, durability, reads, roll, retention, faults.

#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <vector>

#include "log_fixture.h"
#include "protocol/batch_header.h"
#include "protocol/errc.h"
#include "protocol/record_batch.h"
#include "segment/checkpoint.h"
#include "segment/errc.h"

namespace sluice::test {
namespace {

// The batch as the log stores it: base offset and leader epoch stamped.
byte_buffer stamped(byte_buffer batch, offset base, leader_epoch epoch = leader_epoch{0}) {
  set_base_offset(batch, base);
  set_partition_leader_epoch(batch, epoch);
  return batch;
}

}  // namespace

TEST_CASE("appends get consecutive offsets and read back byte-identical") {
  log_fixture f;
  f.open();
  byte_buffer expected;
  offset next{0};
  for (int i = 0; i < 20; ++i) {
    auto batch = make_batch(5, 100, i);
    auto r = f.append(batch);
    REQUIRE(r.has_value());
    CHECK(r->base_offset == next);
    CHECK(r->last_offset == next + 4);
    auto s = stamped(batch, next);
    expected.insert(expected.end(), s.begin(), s.end());
    next = next + 5;
  }
  CHECK(f.log->log_end_offset() == offset{100});
  CHECK(f.read_all(offset{0}) == expected);
}

TEST_CASE("under flush=always an append is acknowledged only once fdatasync'd") {
  log_fixture f;
  f.open();
  auto before = f.io->syncs();
  REQUIRE(f.append(make_batch(1, 10, 1)).has_value());
  CHECK(f.io->syncs() > before);
  CHECK(f.log->durable_end() == f.log->visible_end());
}

TEST_CASE("appends that arrive together share one fdatasync (group commit)") {
  log_fixture f;
  f.open();
  auto before = f.io->syncs();
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    f.log->append(make_batch(2, 1000, i), [&](result<append_info> r) {
      CHECK(r.has_value());
      ++done;
    });
  }
  f.ctx.restart();
  while (done < 50 && f.ctx.run_one() > 0) {
  }
  CHECK(done == 50);
  CHECK(f.io->syncs() - before < 50);
  CHECK(f.log->durable_end() == offset{100});
}

TEST_CASE("appends of one turn are written together, and the fdatasync covering them with them") {
  log_fixture f;
  f.open();
  const auto writes = f.io->writes();
  const auto syncs = f.io->syncs();
  std::vector<offset> acked;
  for (int i = 0; i < 8; ++i) {
    f.log->append(make_batch(2, 1000, i), [&](result<append_info> r) {
      REQUIRE(r.has_value());
      acked.push_back(r->base_offset);
    });
  }
  f.ctx.restart();
  while (acked.size() < 8 && f.ctx.run_one() > 0) {
  }
  REQUIRE(acked.size() == 8);
  // One gathered write, and one of the zeros kept ahead of small durable appends (zero_tail.h).
  CHECK(f.io->writes() - writes == 2);
  CHECK(f.io->syncs() - syncs == 1);  // one group commit, started with the write
  for (std::size_t i = 0; i < acked.size(); ++i) {
    CHECK(acked[i] == offset{2 * static_cast<std::int64_t>(i)});
  }
  CHECK(f.log->durable_end() == offset{16});
}

TEST_CASE("under flush=interval a turn's appends are written in bounded pieces") {
  log_fixture f;
  log_config cfg;
  cfg.flush = *flush_policy::parse("interval:1000");
  f.open(cfg);
  const auto writes = f.io->writes();
  const auto batch = make_batch(1, 60 * 1024, 1);
  const std::size_t per_write = partition_log::max_write_bytes_interval / batch.size();
  REQUIRE(per_write >= 1);
  int done = 0;
  for (std::size_t i = 0; i < 4 * per_write; ++i) {
    f.log->append(make_batch(1, 60 * 1024, i), [&](result<append_info> r) {
      REQUIRE(r.has_value());
      ++done;
    });
  }
  f.ctx.restart();
  while (done < static_cast<int>(4 * per_write) && f.ctx.run_one() > 0) {
  }
  CHECK(f.io->writes() - writes == 4);
  CHECK(f.log->visible_end() == offset{static_cast<std::int64_t>(4 * per_write)});
}

TEST_CASE("under flush=interval writeback of the log starts every few MiB, in whole pages") {
  log_fixture f;
  log_config cfg;
  cfg.flush = *flush_policy::parse(interval_without_timer);
  f.open(cfg);
  std::uint64_t written = 0;
  for (int round = 0; round < 10; ++round) {  // ~10 MiB, a stream rather than one burst
    written += append_and_wait(f, 16, 64 * 1024);
    f.ctx.restart();
    f.ctx.poll();  // a writeback's handler, so the next one may start
  }
  const auto& ranges = f.io->writeback_ranges();
  REQUIRE(ranges.size() >= 2);
  std::uint64_t expected_from = 0;  // contiguous, from the start of the fresh segment
  for (const auto& [from, length] : ranges) {
    CHECK(from == expected_from);
    CHECK(length >= partition_log::writeback_kick_bytes);
    CHECK((from + length) % 4096 == 0);
    expected_from = from + length;
  }
  CHECK(expected_from <= written);
  CHECK(written - expected_from < partition_log::writeback_kick_bytes + 64 * 1024 + 4096);
}

TEST_CASE("under flush=always no early writeback is started: each group commit syncs") {
  log_fixture f;
  f.open();
  append_and_wait(f, 100, 64 * 1024);
  CHECK(f.io->writeback_ranges().empty());
}

TEST_CASE("a batch with a bad CRC, magic or length is refused and nothing is appended") {
  log_fixture f;
  f.open();
  auto bad_crc = make_batch(3, 50, 1);
  bad_crc.back() ^= std::byte{0x01};
  auto r = f.append(bad_crc);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == make_error_code(protocol_errc::bad_crc));

  auto bad_magic = make_batch(3, 50, 1);
  bad_magic[16] = std::byte{1};
  r = f.append(bad_magic);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == make_error_code(protocol_errc::bad_magic));

  auto extra = make_batch(3, 50, 1);
  extra.push_back(std::byte{0});
  r = f.append(extra);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == make_error_code(protocol_errc::bad_length));

  CHECK(f.log->log_end_offset() == offset{0});
  CHECK(f.log->size_bytes() == 0);
}

TEST_CASE("a batch over max.message.bytes is refused") {
  log_fixture f;
  log_config cfg;
  cfg.max_message_bytes = 1000;
  f.open(cfg);
  auto r = f.append(make_batch(3, 500, 1));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == make_error_code(log_errc::batch_too_large));
}

TEST_CASE("read starts with the whole batch that holds the offset") {
  log_fixture f;
  f.open();
  for (int i = 0; i < 10; ++i) REQUIRE(f.append(make_batch(10, 20, i)).has_value());
  auto slice = f.log->read(offset{37}, 1 << 20);
  REQUIRE(slice.has_value());
  CHECK(slice->first_offset == offset{30});
  CHECK(slice->next_offset == offset{100});  // everything up to the end fitted
  auto bytes = slice->read_bytes();
  REQUIRE(bytes.has_value());
  auto h = parse_batch_header(*bytes);
  REQUIRE(h.has_value());
  CHECK(h->base_offset == offset{30});
}

TEST_CASE("read returns whole batches only, and at least one even if larger than max_bytes") {
  log_fixture f;
  f.open();
  for (int i = 0; i < 10; ++i) REQUIRE(f.append(make_batch(4, 300, i)).has_value());
  auto one = f.log->read(offset{0}, 10);
  REQUIRE(one.has_value());
  auto h = parse_batch_header(*one->read_bytes());
  REQUIRE(h.has_value());
  CHECK(one->size == h->size_bytes());

  CHECK(one->next_offset == offset{4});

  auto some = f.log->read(offset{0}, 3 * h->size_bytes() + 7);
  REQUIRE(some.has_value());
  CHECK(some->size == 3 * h->size_bytes());
  CHECK(some->next_offset == offset{12});  // the base offset of the first batch left out
}

TEST_CASE("a read that jumps over batches with the index still says where the next one starts") {
  log_fixture f;
  log_config cfg;
  cfg.index_interval_bytes = 1;  // an index entry for every batch, so the read jumps
  f.open(cfg);
  std::vector<std::size_t> ends;  // where each batch ends in the log
  for (int i = 0; i < 40; ++i) {
    auto batch = make_batch(4, 300, i);
    ends.push_back((ends.empty() ? 0 : ends.back()) + batch.size());
    REQUIRE(f.append(std::move(batch)).has_value());
  }
  for (std::size_t batches = 1; batches <= 40; ++batches) {
    CAPTURE(batches);
    // Room for `batches` batches and part of the next one.
    auto slice = f.log->read(offset{2}, ends[batches - 1] + 100);
    REQUIRE(slice.has_value());
    CHECK(slice->size == ends[batches - 1]);
    CHECK(slice->next_offset == offset{static_cast<std::int64_t>(4 * batches)});
  }
}

TEST_CASE("a read at the end, with the next batch indexed but not yet durable, trusts the index") {
  log_fixture f;
  log_config cfg;
  cfg.index_interval_bytes = 1;  // an index entry for every batch, written as it is submitted
  f.open(cfg);
  for (int i = 0; i < 3; ++i) REQUIRE(f.append(make_batch(4, 300, i)).has_value());
  auto warnings = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  const auto previous_logger = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", warnings));
  bool acknowledged = false;
  f.log->append(make_batch(4, 300, 3), [&](const result<append_info>&) { acknowledged = true; });
  f.ctx.restart();
  int reads = 0;
  while (!acknowledged && f.ctx.run_one_for(std::chrono::seconds(5)) > 0) {
    // Each turn: a tailing reader asks for everything up to the visible end.
    auto slice = f.log->read(offset{0}, 1 << 20);
    REQUIRE(slice.has_value());
    ++reads;
  }
  spdlog::set_default_logger(previous_logger);
  CHECK(acknowledged);
  CHECK(reads > 0);
  // The entry of the batch in flight lies at the visible end: not a mismatch with the log.
  CHECK(warnings->last_formatted().empty());
}

TEST_CASE("read outside [log start, visible end] is out of range; at the end it is empty") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(5, 10, 1)).has_value());
  auto at_end = f.log->read(offset{5}, 100);
  REQUIRE(at_end.has_value());
  CHECK(at_end->empty());
  CHECK(at_end->next_offset == offset{5});
  auto past = f.log->read(offset{6}, 100);
  REQUIRE_FALSE(past.has_value());
  CHECK(past.error().code == make_error_code(log_errc::offset_out_of_range));
  CHECK(f.log->read(offset{-1}, 100).has_value() == false);
}

TEST_CASE("offset_for_timestamp finds the first record at or after the timestamp") {
  log_fixture f;
  log_config cfg;
  cfg.index_interval_bytes = 100;  // many index entries
  f.open(cfg);
  for (int i = 0; i < 50; ++i) {
    REQUIRE(f.append(make_batch(10, 30, i, 1000 + i * 10)).has_value());
  }
  // batch i holds offsets 10i..10i+9 with timestamps 1000+10i .. 1000+10i+9
  auto o = f.log->offset_for_timestamp(1000 + 237);
  REQUIRE(o.has_value());
  REQUIRE(o->has_value());
  CHECK(**o == offset{237});
  auto first = f.log->offset_for_timestamp(0);
  REQUIRE(first.has_value());
  CHECK(**first == offset{0});
  // The lowest timestamp there is: "timestamp - 1" must not wrap round to the highest.
  auto lowest = f.log->offset_for_timestamp(std::numeric_limits<std::int64_t>::min());
  REQUIRE(lowest.has_value());
  CHECK(**lowest == offset{0});
  auto none = f.log->offset_for_timestamp(1'000'000);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("segments roll when segment.bytes would be exceeded") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  f.open(cfg);
  byte_buffer expected;
  for (int i = 0; i < 40; ++i) {
    auto b = make_batch(2, 400, i);
    auto r = f.append(b);
    REQUIRE(r.has_value());
    auto s = stamped(b, r->base_offset);
    expected.insert(expected.end(), s.begin(), s.end());
  }
  CHECK(f.log->segment_count() > 5);
  CHECK(f.read_all(offset{0}) == expected);
  for (auto base : f.log->segment_bases()) {
    auto name = segment::file_stem(base);
    CHECK(std::filesystem::exists(f.log_dir() / (name + ".log")));
    CHECK(std::filesystem::exists(f.log_dir() / (name + ".index")));
    CHECK(std::filesystem::exists(f.log_dir() / (name + ".timeindex")));
  }
  // The active segment keeps zeros ahead of its appends (zero_tail.h); a sealed one has them
  // cut off, and so has the last one once the log is closed.
  const auto bases = f.log->segment_bases();
  f.close();
  for (auto base : bases) {
    CHECK(std::filesystem::file_size(f.log_dir() / (segment::file_stem(base) + ".log")) <= 4096);
  }
}

TEST_CASE("a sealed segment holds one descriptor, its .log's, and its indexes still answer") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.index_interval_bytes = 512;  // several index entries per segment
  f.open(cfg);
  std::vector<offset> bases;  // of each appended batch
  for (int i = 0; i < 40; ++i) {
    auto r = f.append(make_batch(2, 400, i, 1'700'000'000'000 + 10 * i));
    REQUIRE(r.has_value());
    bases.push_back(r->base_offset);
  }
  const auto segments = static_cast<int>(f.log->segment_count());
  REQUIRE(segments > 5);
  const auto dir = f.log_dir();
  // The roll's index syncs hold copies until they are done.
  CHECK(f.run_until([&] { return open_files(dir, ".index") == 1; }));
  CHECK(open_files(dir, ".timeindex") == 1);
  CHECK(open_files(dir, ".log") == segments);

  for (std::size_t i = 0; i < bases.size(); ++i) {            // every lookup goes through an index
    auto slice = f.log->read(offset{bases[i].value + 1}, 1);  // the batch's second record
    REQUIRE(slice.has_value());
    CHECK(slice->first_offset == bases[i]);
    auto at = f.log->offset_for_timestamp(1'700'000'000'000 + 10 * static_cast<std::int64_t>(i));
    REQUIRE(at.has_value());
    REQUIRE(at->has_value());
    CHECK(**at == bases[i]);
  }

  // A cut into an early segment makes it active again: its indexes reopen and regrow.
  REQUIRE(f.log->truncate_to(bases[3]).has_value());
  CHECK(open_files(dir, ".index") == 1);
  auto again = f.append(make_batch(2, 400, 99));
  REQUIRE(again.has_value());
  CHECK(again->base_offset == bases[3]);

  f.close();  // and a reopened log releases what it does not append to
  f.open(cfg);
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, 100 + i)).has_value());
  CHECK(f.run_until([&] { return open_files(dir, ".index") == 1; }));
  CHECK(open_files(dir, ".timeindex") == 1);
  CHECK(open_files(dir, ".log") == static_cast<int>(f.log->segment_count()));
}

// A segment rolled because its index was full is trimmed to exactly the index's maximum, so
// making it active again (a cut into it) regrows nothing; its index descriptors, released at
// the roll, must still be reopened for the next roll's and checkpoint's fdatasyncs.
TEST_CASE("a cut into a segment rolled for a full index, then another roll") {
  log_fixture f;
  log_config cfg;
  cfg.index_interval_bytes = 512;
  cfg.index_max_bytes = 64;  // the smallest: five time entries, so rolls come from the index
  f.open(cfg);
  for (int i = 0; i < 30; ++i) {
    REQUIRE(f.append(make_batch(2, 400, i, 1'700'000'000'000 + 10 * i)).has_value());
  }
  REQUIRE(f.log->segment_count() > 3);
  const auto dir = f.log_dir();
  CHECK(f.run_until([&] { return open_files(dir, ".index") == 1; }));

  const offset cut = f.log->segment_bases()[1];  // the first segment stays whole, index full
  REQUIRE(f.log->truncate_to(cut).has_value());
  REQUIRE(f.log->segment_count() == 1);
  for (int i = 0; i < 30; ++i) {
    auto r = f.append(make_batch(2, 400, 50 + i, 1'700'000'001'000 + 10 * i));
    REQUIRE(r.has_value());
    CHECK(r->base_offset == offset{cut.value + 2 * i});
  }
  CHECK(f.log->segment_count() > 3);
  f.close();
  f.open(cfg);
  CHECK(f.log->log_end_offset() == offset{cut.value + 60});
}

TEST_CASE("segments roll when segment.ms has passed") {
  log_fixture f;
  log_config cfg;
  cfg.segment_ms = std::chrono::minutes(10);
  f.open(cfg);
  REQUIRE(f.append(make_batch(1, 10, 1)).has_value());
  f.clk.advance(std::chrono::minutes(9));
  REQUIRE(f.append(make_batch(1, 10, 2)).has_value());
  CHECK(f.log->segment_count() == 1);
  f.clk.advance(std::chrono::minutes(2));
  REQUIRE(f.append(make_batch(1, 10, 3)).has_value());
  CHECK(f.log->segment_count() == 2);
  CHECK(f.log->segment_bases().back() == offset{2});
}

namespace {

// 4 KiB segments, 40 batches of two records (about 36 KiB), retention.bytes 10 000.
log_config fill_past_retention_bytes(log_fixture& f) {
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_bytes = 10000;
  f.open(cfg);
  for (int i = 0; i < 40; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  return cfg;
}

}  // namespace

TEST_CASE("retention tells its hook the durable new log start while the segments are there") {
  log_fixture f;
  fill_past_retention_bytes(f);
  std::optional<offset> told;
  std::size_t headers_below = 0;
  auto deleted = f.log->enforce_retention([&](offset new_start) {
    told = new_start;
    auto cp = read_checkpoint(f.log_dir());
    REQUIRE(cp.has_value());
    REQUIRE(cp->has_value());
    CHECK((*cp)->log_start_offset == new_start);  // durable before the hook runs
    REQUIRE(f.log
                ->scan_batch_headers(
                    offset{0}, [&](const batch_header&) { ++headers_below; }, new_start)
                .has_value());
  });
  REQUIRE(deleted.has_value());
  REQUIRE(told.has_value());
  CHECK(*told == f.log->log_start_offset());
  CHECK(headers_below == static_cast<std::size_t>(told->value / 2));  // two records a batch
  told.reset();
  CHECK(*f.log->enforce_retention([&](offset o) { told = o; }) == 0);
  CHECK_FALSE(told.has_value());  // nothing to delete: not called
}

TEST_CASE("retention whose checkpoint cannot be written deletes nothing and keeps the log start") {
  log_fixture f;
  fill_past_retention_bytes(f);
  const auto bases = f.log->segment_bases();
  const auto before = f.read_all(offset{0});
  // checkpoint.tmp cannot be created while a directory has its name.
  std::filesystem::create_directory(f.log_dir() / "checkpoint.tmp");
  bool hook_ran = false;
  auto deleted = f.log->enforce_retention([&](offset) { hook_ran = true; });
  REQUIRE_FALSE(deleted.has_value());
  CHECK_FALSE(hook_ran);
  CHECK(f.log->log_start_offset() == offset{0});  // readers keep what they could read
  CHECK(f.log->segment_bases() == bases);
  CHECK(f.read_all(offset{0}) == before);
  std::filesystem::remove(f.log_dir() / "checkpoint.tmp");
  deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  CHECK(*deleted > 0);
  CHECK(f.log->log_start_offset() > offset{0});
}

TEST_CASE("segments a crash left below the log start are shown to open before it deletes them") {
  log_fixture f;
  const log_config cfg = fill_past_retention_bytes(f);
  // Retention's checkpoint is written, then the broker dies before the first deletion.
  const auto saved = f.dir.path() / "saved";
  std::filesystem::create_directories(saved);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(f.log_dir())) files.push_back(e.path());
  for (const auto& p : files) std::filesystem::copy(p, saved / p.filename());
  offset new_start{-1};
  REQUIRE(f.log->enforce_retention([&](offset o) { new_start = o; }).has_value());
  f.crash();
  for (const auto& p : files) {
    if (p.extension() == ".log" || p.extension() == ".index" || p.extension() == ".timeindex") {
      std::filesystem::copy(saved / p.filename(), p, std::filesystem::copy_options::skip_existing);
    }
  }

  std::vector<offset> shown;
  auto reopened =
      partition_log::open(f.log_dir(), cfg, *f.io, f.ctx, f.clk,
                          [&](const batch_header& h) { shown.push_back(h.base_offset); });
  REQUIRE(reopened.has_value());
  f.log = std::move(*reopened);
  REQUIRE(shown.size() == static_cast<std::size_t>(new_start.value / 2));
  for (std::size_t i = 0; i < shown.size(); ++i)
    CHECK(shown[i] == offset{2 * static_cast<std::int64_t>(i)});
  CHECK(f.log->segment_bases().front() == new_start);
  CHECK(f.log->log_start_offset() == new_start);
}

TEST_CASE("retention.bytes deletes whole closed segments and advances the log start") {
  log_fixture f;
  const log_config cfg = fill_past_retention_bytes(f);
  auto before = f.log->segment_count();
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  CHECK(*deleted > 0);
  CHECK(f.log->segment_count() == before - *deleted);
  CHECK(f.log->size_bytes() >= 10000);
  CHECK(f.log->size_bytes() - 4096 < 10000);
  CHECK(f.log->log_start_offset() == f.log->segment_bases().front());
  auto old = f.log->read(offset{0}, 100);
  CHECK_FALSE(old.has_value());
  // The new log start survives a restart.
  auto start = f.log->log_start_offset();
  f.close();
  f.open(cfg);
  CHECK(f.log->log_start_offset() == start);
}

TEST_CASE("retention.ms deletes segments whose newest record is older than the limit") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_ms = std::chrono::hours(1);
  f.open(cfg);
  const std::int64_t t0 = f.clk.now_ms();
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i, t0)).has_value());
  for (int i = 0; i < 20; ++i) {
    REQUIRE(f.append(make_batch(2, 400, i, t0 + 3'600'000)).has_value());
  }
  CHECK(*f.log->enforce_retention() == 0);
  f.clk.advance(std::chrono::minutes(90));
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  CHECK(*deleted > 0);
  // What remains starts no later than the first batch with the newer timestamps.
  CHECK(f.log->log_start_offset() <= offset{40});
  CHECK(f.log->log_start_offset() > offset{0});
}

// Records a client sent without timestamps (-1): the segment is dated by its file's mtime.
TEST_CASE("retention.ms keeps segments whose records have no timestamp until their file is old") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_ms = std::chrono::hours(1);
  f.open(cfg);
  f.clk.set(real_clock().now_ms());  // file times are the real clock's
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(1, 400, i, -1)).has_value());
  REQUIRE(f.log->segment_count() > 2);
  CHECK(*f.log->enforce_retention() == 0);
  CHECK(f.log->log_start_offset() == offset{0});
  f.clk.advance(std::chrono::minutes(90));
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  CHECK(*deleted > 0);
  CHECK(f.log->log_start_offset() > offset{0});
}

// Under flush=interval a rolled segment's last bytes may not be synced yet.
TEST_CASE("retention deletes no segment whose end is not durable yet") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_bytes = 0;  // every closed segment is over the limit
  cfg.flush = *flush_policy::parse(interval_without_timer);  // no sync while the test runs
  f.open(cfg);
  for (int i = 0; i < 40; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  REQUIRE(f.log->segment_count() > 2);
  REQUIRE(f.log->durable_end() < f.log->segment_bases()[1]);
  CHECK(*f.log->enforce_retention() == 0);
  CHECK(f.log->log_start_offset() == offset{0});
  // Once synced (a clean close syncs), the same segments go.
  f.close();
  f.open(cfg);
  REQUIRE(f.log->durable_end() == f.log->log_end_offset());
  CHECK(*f.log->enforce_retention() > 0);
  CHECK(f.log->log_start_offset() == f.log->segment_bases().front());
  CHECK(f.log->log_start_offset() > offset{0});
}

TEST_CASE("a reader keeps its slice after retention deletes the segment") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_bytes = 0;
  f.open(cfg);
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  auto slice = f.log->read(offset{0}, 1 << 20);
  REQUIRE(slice.has_value());
  REQUIRE(f.log->enforce_retention().has_value());
  auto bytes = slice->read_bytes();
  REQUIRE(bytes.has_value());
  CHECK(bytes->size() == slice->size);
}

namespace {

// 4 KiB segments holding 20 batches, which retention deletes down to the active one.
void open_and_fill_for_retention(log_fixture& f) {
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_bytes = 0;
  f.open(cfg);
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
}

std::optional<log_slice> read_from_start(log_fixture& f) {
  auto read = f.log->read(offset{0}, 1 << 20);
  REQUIRE(read.has_value());
  return std::move(*read);
}

// Descriptors still open on the deleted segment files (.log, .index, .timeindex) of f's log.
int open_deleted_segment_files(const log_fixture& f) {
  return open_deleted_files(f.log_dir(), ".log") + open_deleted_files(f.log_dir(), "index");
}

}  // namespace

// Freeing a deleted segment's blocks is a synchronous discard on some mounts (up to
// segment.bytes of them): retention leaves the last close of its files to the backend's thread.
TEST_CASE("retention leaves the last close of a deleted segment's files to the backend") {
  log_fixture f;
  open_and_fill_for_retention(f);
  const auto dir = f.log_dir();
  f.io->hold_closes();
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  REQUIRE(*deleted > 0);
  // Every file is still open, handed to the backend's close: nothing was freed on this thread.
  CHECK(open_deleted_files(dir, ".log") == static_cast<int>(*deleted));
  CHECK(open_deleted_files(dir, ".index") == static_cast<int>(*deleted));
  CHECK(open_deleted_files(dir, ".timeindex") == static_cast<int>(*deleted));
  f.io->release_held_closes();
  CHECK(f.run_until([&] { return open_deleted_segment_files(f) == 0; }));
}

TEST_CASE("a deleted segment a reader still holds is closed by the backend after the reader") {
  log_fixture f;
  open_and_fill_for_retention(f);
  const auto dir = f.log_dir();
  auto slice = read_from_start(f);
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  REQUIRE(*deleted > 1);
  // The segments no one reads go; the one read stays held alongside the reader's descriptor.
  CHECK(f.run_until([&] { return open_deleted_files(dir, "index") == 2; }));
  CHECK(open_deleted_files(dir, ".log") == 2);

  slice.reset();  // the reader's close is not the last: the log still has the file
  CHECK(open_deleted_files(dir, ".log") == 2);
  REQUIRE(f.log->enforce_retention().has_value());  // the next pass releases it
  CHECK(f.run_until([&] { return open_deleted_segment_files(f) == 0; }));
}

TEST_CASE("closing the log releases the deleted segments a reader still holds") {
  log_fixture f;
  open_and_fill_for_retention(f);
  const auto dir = f.log_dir();
  auto slice = read_from_start(f);
  REQUIRE(f.log->enforce_retention().has_value());
  f.close();
  CHECK(f.run_until([&] { return open_deleted_files(dir, "index") == 0; }));
  CHECK(open_deleted_files(dir, ".log") == 1);  // the reader's own descriptor
  auto bytes = slice->read_bytes();
  REQUIRE(bytes.has_value());
  CHECK(bytes->size() == slice->size);
  slice.reset();
  CHECK(open_deleted_files(dir, ".log") == 0);
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("with several group commits in flight, acknowledgements stay in offset order") {
  auto saved = partition_log::max_syncs_in_flight;
  partition_log::max_syncs_in_flight = 3;
  log_fixture f;
  f.open();
  std::vector<offset> acked;
  for (int i = 0; i < 200; ++i) {
    f.log->append(make_batch(1, 2000, i), [&](result<append_info> r) {
      REQUIRE(r.has_value());
      acked.push_back(r->base_offset);
      CHECK(f.log->durable_end() > r->last_offset);
    });
  }
  f.ctx.restart();
  while (acked.size() < 200 && f.ctx.run_one() > 0) {
  }
  REQUIRE(acked.size() == 200);
  for (std::size_t i = 0; i < acked.size(); ++i)
    CHECK(acked[i] == offset{static_cast<std::int64_t>(i)});
  partition_log::max_syncs_in_flight = saved;
}

}  // namespace sluice::test
