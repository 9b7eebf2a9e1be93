// Opening a log after a clean close and after crashes: what is trusted, what is re-scanned,
// and where a torn or corrupt tail is cut.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "log_fixture.h"
#include "protocol/batch_header.h"
#include "protocol/crc32c.h"
#include "protocol/record_batch_format.h"
#include "segment/checkpoint.h"

namespace sluice::test {
namespace {

std::filesystem::path first_log(const log_fixture& f) {
  return f.log_dir() / (segment::file_stem(offset{0}) + ".log");
}

void flip_byte(const std::filesystem::path& file, std::uint64_t pos) {
  std::fstream s(file, std::ios::in | std::ios::out | std::ios::binary);
  s.seekg(static_cast<std::streamoff>(pos));
  char c = 0;
  s.read(&c, 1);
  c = static_cast<char>(c ^ 0x20);
  s.seekp(static_cast<std::streamoff>(pos));
  s.write(&c, 1);
}

// Appends batches 0 to n - 1, each of two records of `value_bytes`, each acknowledged.
void append_batches(log_fixture& f, int n, std::size_t value_bytes) {
  for (int i = 0; i < n; ++i) REQUIRE(f.append(make_batch(2, value_bytes, i)).has_value());
}

// 2 KiB segments: 30 batches of two 200-byte records roll several.
log_config small_segments() {
  log_config cfg;
  cfg.segment_bytes = 2048;
  return cfg;
}

// Writes 30 batches over several segments and closes the log; without `clean`, the checkpoint
// then says a crash happened, with the recovery point in the last segment (so every segment
// before it was durable). The segments' base offsets.
std::vector<offset> write_rolled_log(log_fixture& f, const log_config& cfg, bool clean) {
  f.open(cfg);
  append_batches(f, 30, 200);
  auto bases = f.log->segment_bases();
  f.close();
  if (!clean) {
    auto cp = read_checkpoint(f.log_dir());
    REQUIRE(cp.has_value());
    partition_checkpoint crashed = **cp;
    crashed.clean = false;
    REQUIRE(write_checkpoint(f.log_dir(), crashed).has_value());
  }
  return bases;
}

// Where each whole batch of a .log file starts.
std::vector<std::uint64_t> batch_positions(const std::filesystem::path& file) {
  byte_buffer bytes(std::filesystem::file_size(file));
  std::ifstream(file, std::ios::binary)
      .read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::vector<std::uint64_t> starts;
  for (std::uint64_t pos = 0; pos + batch_header_size <= bytes.size();) {
    auto h = parse_batch_header(byte_span(bytes).subspan(pos, batch_header_size));
    REQUIRE(h.has_value());
    starts.push_back(pos);
    pos += h->size_bytes();
  }
  return starts;
}

}  // namespace

TEST_CASE("after a clean close the log reopens without scanning anything") {
  log_fixture f;
  f.open();
  for (int i = 0; i < 30; ++i) REQUIRE(f.append(make_batch(3, 200, i)).has_value());
  auto before = f.read_all(offset{0});
  f.close();
  f.open();
  CHECK(f.log->last_recovery().clean);
  CHECK(f.log->last_recovery().bytes_scanned == 0);
  CHECK(f.log->log_end_offset() == offset{90});
  CHECK(f.read_all(offset{0}) == before);
  // and appends continue where they left off
  auto r = f.append(make_batch(1, 10, 99));
  REQUIRE(r.has_value());
  CHECK(r->base_offset == offset{90});
}

TEST_CASE("after a crash only the bytes past the recovery point are re-scanned") {
  log_fixture f;
  f.open();
  for (int i = 0; i < 30; ++i) REQUIRE(f.append(make_batch(3, 200, i)).has_value());
  REQUIRE(f.log->checkpoint().has_value());
  std::uint64_t tail = 0;
  for (int i = 0; i < 5; ++i) {
    auto b = make_batch(3, 200, 100 + i);
    tail += b.size();
    REQUIRE(f.append(b).has_value());
  }
  auto before = f.read_all(offset{0});
  f.crash();
  f.open();
  CHECK_FALSE(f.log->last_recovery().clean);
  CHECK(f.log->last_recovery().bytes_scanned == tail);
  CHECK(f.log->last_recovery().bytes_truncated == 0);
  CHECK(f.log->log_end_offset() == offset{105});
  CHECK(f.read_all(offset{0}) == before);
}

TEST_CASE("a torn tail at any byte of the last batch recovers to the last whole batch") {
  log_fixture f;
  f.open();
  append_batches(f, 8, 50);
  auto whole = f.read_all(offset{0});
  auto last = make_batch(3, 40, 77);
  REQUIRE(f.append(last).has_value());
  f.close();
  const auto log_path = first_log(f);
  const std::uint64_t full = std::filesystem::file_size(log_path);
  byte_buffer original(full);
  {
    std::ifstream in(log_path, std::ios::binary);
    in.read(reinterpret_cast<char*>(original.data()), static_cast<std::streamsize>(full));
  }
  const std::uint64_t last_start = full - last.size();
  for (std::uint64_t cut = last_start; cut < full; ++cut) {
    CAPTURE(cut);
    // A crash that left `cut` bytes: no clean marker, and the tail shortened.
    {
      std::ofstream out(log_path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(original.data()), static_cast<std::streamsize>(cut));
    }
    auto cp = read_checkpoint(f.log_dir());
    REQUIRE(cp.has_value());
    partition_checkpoint crashed = **cp;
    crashed.clean = false;
    crashed.recovery_point = offset{0};
    crashed.recovery_position = file_pos{0};
    REQUIRE(write_checkpoint(f.log_dir(), crashed).has_value());

    f.open();
    CHECK(f.log->log_end_offset() == offset{16});
    CHECK(f.log->last_recovery().bytes_truncated == cut - last_start);
    CHECK(std::filesystem::file_size(log_path) == last_start);
    CHECK(f.read_all(offset{0}) == whole);
    f.close();
  }
}

TEST_CASE("a corrupt batch in the tail cuts the log there and drops later segments") {
  log_fixture f;
  const log_config cfg = small_segments();
  f.open(cfg);
  append_batches(f, 30, 200);
  REQUIRE(f.log->segment_count() > 3);
  f.crash();
  // Corrupt the second batch of the first segment (after the recovery point: the open wrote
  // a checkpoint at offset 0 before any append).
  auto log_path = first_log(f);
  auto first_size = make_batch(2, 200, 0).size();
  flip_byte(log_path, first_size + 100);
  f.open(cfg);
  CHECK(f.log->log_end_offset() == offset{2});
  CHECK(f.log->segment_count() == 1);
  REQUIRE(f.log->last_recovery().cut_at.has_value());
  CHECK(*f.log->last_recovery().cut_at == offset{2});
  CHECK(f.log->last_recovery().cut_reason.find("CRC") != std::string::npos);
}

// Only something other than this broker can write such a batch; recovery keeps what an append
// would accept and no more.
TEST_CASE("a batch whose CRC matches but whose records do not decode is cut at recovery") {
  log_fixture f;
  f.open();
  append_batches(f, 3, 200);
  f.crash();
  const auto size = make_batch(2, 200, 0).size();  // every batch here has this size
  std::vector<char> bytes(3 * size);
  {
    std::ifstream in(first_log(f), std::ios::binary);
    REQUIRE(in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())));
  }
  auto put_u32 = [&](std::size_t pos, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes[pos + i] = static_cast<char>(v >> (24 - 8 * i));
  };
  const std::size_t second = size;
  put_u32(second + 57, 3);  // the records count: 3 claimed, 2 present
  const auto covered = std::as_bytes(std::span(bytes)).subspan(second + 21, size - 21);
  put_u32(second + 17, crc32c(byte_span(covered.data(), covered.size())));
  {
    std::ofstream out(first_log(f), std::ios::binary | std::ios::in);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  f.open();
  CHECK(f.log->log_end_offset() == offset{2});
  REQUIRE(f.log->last_recovery().cut_at.has_value());
  CHECK(*f.log->last_recovery().cut_at == offset{2});
  CHECK(f.log->last_recovery().cut_reason.find("CRC") == std::string::npos);
}

TEST_CASE("a gap in the offsets between segments (a crash during a roll) ends the log there") {
  log_fixture f;
  const log_config cfg = small_segments();
  f.open(cfg);
  append_batches(f, 30, 200);
  auto bases = f.log->segment_bases();
  REQUIRE(bases.size() > 3);
  f.crash();
  // The first segment's last batch never reached the disk, but the next segment did.
  auto batch_size = make_batch(2, 200, 0).size();
  auto log_path = first_log(f);
  std::filesystem::resize_file(log_path, std::filesystem::file_size(log_path) - batch_size);
  f.open(cfg);
  CHECK(f.log->segment_count() == 1);
  CHECK(f.log->log_end_offset() == bases[1] + -2);
  REQUIRE(f.log->last_recovery().cut_at.has_value());
  CHECK(f.log->last_recovery().cut_reason.find("starts at offset") != std::string::npos);
  auto r = f.append(make_batch(1, 10, 5));
  REQUIRE(r.has_value());
  CHECK(r->base_offset == bases[1] + -2);
}

TEST_CASE("a cleanly closed segment that does not match its index is re-scanned and re-indexed") {
  log_fixture f;
  log_config cfg;
  cfg.index_interval_bytes = 100;
  f.open(cfg);
  append_batches(f, 20, 100);
  f.close();
  auto log_path = first_log(f);
  std::filesystem::resize_file(log_path, std::filesystem::file_size(log_path) - 10);
  f.open(cfg);
  CHECK(f.log->log_end_offset() == offset{38});
  auto bases = f.log->segment_bases();
  REQUIRE(bases.size() == 1);
  auto slice = f.log->read(offset{30}, 1);
  REQUIRE(slice.has_value());
  CHECK(slice->first_offset == offset{30});
  // The index was rebuilt (a trimmed index holds exactly its entries).
  f.close();
  CHECK(std::filesystem::file_size(f.log_dir() / "00000000000000000000.index") >= 8 * 10);
  f.open(cfg);
  CHECK(f.log->last_recovery().clean);
  CHECK(f.log->log_end_offset() == offset{38});
}

TEST_CASE("a cleanly closed index whose last entry names an offset the log never had is rebuilt") {
  log_fixture f;
  log_config cfg;
  cfg.index_interval_bytes = 100;
  f.open(cfg);
  append_batches(f, 20, 100);
  f.close();
  const auto index_path = f.log_dir() / "00000000000000000000.index";
  const auto index_size = std::filesystem::file_size(index_path);
  REQUIRE(index_size >= 8);
  {
    std::fstream s(index_path, std::ios::in | std::ios::out | std::ios::binary);
    s.seekp(static_cast<std::streamoff>(index_size - 8));  // the last entry's relative offset
    s.write("\x7f\xff\x00\x00", 4);
  }
  f.open(cfg);
  CHECK(f.log->log_end_offset() == offset{40});
  // Appends index after the log's real last offset (an assertion stopped the process before).
  for (int i = 20; i < 25; ++i) REQUIRE(f.append(make_batch(2, 100, i)).has_value());
  auto slice = f.log->read(offset{41}, 1);
  REQUIRE(slice.has_value());
  CHECK(slice->first_offset == offset{40});
  f.close();
  f.open(cfg);
  CHECK(f.log->last_recovery().clean);
  CHECK(f.log->last_recovery().bytes_scanned == 0);
  CHECK(f.log->log_end_offset() == offset{50});
}

TEST_CASE(
    "damage in a segment that was durable costs that segment's rest, not the segments after") {
  for (const bool clean : {true, false}) {
    CAPTURE(clean);
    log_fixture f;
    const log_config cfg = small_segments();
    const auto bases = write_rolled_log(f, cfg, clean);
    REQUIRE(bases.size() > 3);
    // Bit rot in the magic byte of the first segment's last batch.
    const auto starts = batch_positions(first_log(f));
    REQUIRE(starts.size() > 1);
    flip_byte(first_log(f), starts.back() + 16);
    f.open(cfg);
    CHECK(f.log->segment_bases() == bases);
    CHECK(f.log->last_recovery().segments_deleted == 0);
    CHECK(f.log->last_recovery().cut_reason.find("later segments kept") != std::string::npos);
    CHECK(f.log->log_end_offset() == offset{60});
    // A read at a lost offset goes on from the next segment.
    const offset lost{bases[1].value - 1};
    auto slice = f.log->read(lost, 1 << 20);
    REQUIRE(slice.has_value());
    CHECK(slice->first_offset == bases[1]);
    auto next = f.append(make_batch(1, 10, 99));
    REQUIRE(next.has_value());
    CHECK(next->base_offset == offset{60});
  }
}

TEST_CASE("indexes deleted or cut short are rebuilt on a clean open, as the roll left them") {
  log_fixture f;
  log_config cfg = small_segments();
  cfg.index_interval_bytes = 100;
  f.open(cfg);
  append_batches(f, 30, 200);
  const auto bases = f.log->segment_bases();
  REQUIRE(bases.size() > 3);
  f.close();
  auto file_of = [&](offset base, const char* ext) {
    return f.log_dir() / (segment::file_stem(base) + ext);
  };
  const auto index_bytes = std::filesystem::file_size(file_of(bases[0], ".index"));
  const auto time_bytes = std::filesystem::file_size(file_of(bases[0], ".timeindex"));
  const auto second_index_bytes = std::filesystem::file_size(file_of(bases[1], ".index"));
  REQUIRE(index_bytes > 0);
  REQUIRE(time_bytes > 0);
  std::filesystem::remove(file_of(bases[0], ".index"));  // an operator's way to have it rebuilt
  std::filesystem::remove(file_of(bases[0], ".timeindex"));
  std::filesystem::resize_file(file_of(bases[1], ".index"), 13);  // no whole number of entries
  f.open(cfg);
  CHECK(f.log->last_recovery().batches_scanned > 0);
  CHECK_FALSE(f.log->last_recovery().cut_at.has_value());
  CHECK(f.log->segment_bases() == bases);
  // Rebuilt with every entry, and trimmed as a roll trims them (not left at their maximum size).
  CHECK(std::filesystem::file_size(file_of(bases[0], ".index")) == index_bytes);
  CHECK(std::filesystem::file_size(file_of(bases[0], ".timeindex")) == time_bytes);
  CHECK(std::filesystem::file_size(file_of(bases[1], ".index")) == second_index_bytes);
  f.close();
  f.open(cfg);
  CHECK(f.log->last_recovery().clean);
  CHECK(f.log->last_recovery().batches_scanned == 0);
  CHECK(f.log->log_end_offset() == offset{60});
}

TEST_CASE("a durable segment renamed by hand keeps the log from opening, and is left as it is") {
  for (const bool clean : {true, false}) {
    CAPTURE(clean);
    log_fixture f;
    const log_config cfg = small_segments();
    const auto bases = write_rolled_log(f, cfg, clean);
    REQUIRE(bases.size() > 2);
    const auto size = std::filesystem::file_size(first_log(f));
    for (const char* ext : {".log", ".index", ".timeindex"}) {
      std::filesystem::rename(f.log_dir() / (segment::file_stem(offset{0}) + ext),
                              f.log_dir() / (segment::file_stem(offset{5}) + ext));
    }
    auto opened = partition_log::open(f.log_dir(), cfg, *f.io, f.ctx);
    REQUIRE_FALSE(opened.has_value());
    CHECK_MESSAGE(opened.error().message().find("holds offsets from 0 but its name says 5") !=
                      std::string::npos,
                  opened.error().message());
    CHECK(std::filesystem::file_size(f.log_dir() / (segment::file_stem(offset{5}) + ".log")) ==
          size);
  }
}

TEST_CASE("stale checkpoint temp files and orphan indexes are removed on open") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(1, 10, 1)).has_value());
  f.close();
  std::ofstream(f.log_dir() / "checkpoint.tmp") << "half";
  std::ofstream(f.log_dir() / "00000000000000000500.index") << "x";
  f.open();
  CHECK_FALSE(std::filesystem::exists(f.log_dir() / "checkpoint.tmp"));
  CHECK_FALSE(std::filesystem::exists(f.log_dir() / "00000000000000000500.index"));
  CHECK(f.log->log_end_offset() == offset{1});
}

TEST_CASE("the checkpoint round-trips and refuses a malformed file") {
  temp_dir d;
  partition_checkpoint cp;
  cp.log_start_offset = offset{10};
  cp.recovery_point = offset{55};
  cp.recovery_segment = offset{40};
  cp.recovery_position = file_pos{1234};
  cp.leader_epochs = {{leader_epoch{1}, offset{10}}, {leader_epoch{3}, offset{50}}};
  REQUIRE(write_checkpoint(d.path(), cp).has_value());
  auto back = read_checkpoint(d.path());
  REQUIRE(back.has_value());
  REQUIRE(back->has_value());
  CHECK(**back == cp);
  std::ofstream(d.path() / "checkpoint") << "sluice-checkpoint 1\nclean 7\n";
  auto bad = read_checkpoint(d.path());
  CHECK_FALSE(bad.has_value());
}

TEST_CASE("truncate_to cuts at a batch boundary and holds across a reopen") {
  log_fixture f;
  f.open();
  for (int i = 0; i < 10; ++i) REQUIRE(f.append(make_batch(5, 30, i)).has_value());
  REQUIRE(f.log->truncate_to(offset{23}).has_value());
  CHECK(f.log->log_end_offset() == offset{20});
  auto r = f.append(make_batch(1, 10, 42));
  REQUIRE(r.has_value());
  CHECK(r->base_offset == offset{20});
  f.crash();
  f.open();
  CHECK(f.log->log_end_offset() == offset{21});
}

TEST_CASE("an interrupted truncation is finished by the next open") {
  log_fixture f;
  const log_config cfg = small_segments();
  f.open(cfg);
  append_batches(f, 30, 200);
  f.close();
  auto cp = read_checkpoint(f.log_dir());
  REQUIRE(cp.has_value());
  partition_checkpoint intent = **cp;
  intent.clean = false;
  intent.truncate_to = offset{10};
  REQUIRE(write_checkpoint(f.log_dir(), intent).has_value());
  f.open(cfg);
  CHECK(f.log->log_end_offset() == offset{10});
}

TEST_CASE("a checkpoint whose log start lies past the end of the log deletes nothing") {
  log_fixture f;
  const log_config cfg = small_segments();
  f.open(cfg);
  append_batches(f, 30, 200);
  REQUIRE(f.log->segment_bases().size() > 2);
  const auto before = f.read_all(offset{0});
  f.close();
  for (const bool clean : {true, false}) {
    CAPTURE(clean);
    auto cp = read_checkpoint(f.log_dir());
    REQUIRE(cp.has_value());
    partition_checkpoint damaged = **cp;
    damaged.clean = clean;
    damaged.log_start_offset = offset{99'999'999};
    REQUIRE(write_checkpoint(f.log_dir(), damaged).has_value());
    f.open(cfg);
    CHECK(f.log->log_start_offset() == offset{0});
    CHECK(f.log->last_recovery().segments_deleted == 0);
    CHECK(f.read_all(offset{0}) == before);
    f.close();
  }
  f.open(cfg);
  CHECK(f.read_all(offset{0}) == before);
  auto next = f.append(make_batch(1, 10, 99));  // and what comes next is readable
  REQUIRE(next.has_value());
  CHECK(next->base_offset == offset{60});
  CHECK(f.log->read(offset{60}, 1 << 20).has_value());
}

// Retention moved the log start past segment 0 with a recovery point still in it, kept its
// file for recycling, and the next roll wrote a newer segment's batches over it; a power loss
// before the directory's fsync left the file under its old name.
TEST_CASE("a segment below the log start holding newer batches is deleted, not scanned") {
  log_fixture f;
  const log_config cfg = small_segments();
  const auto bases = write_rolled_log(f, cfg, true);
  REQUIRE(bases.size() > 3);
  f.open(cfg);
  const offset end = f.log->log_end_offset();
  const auto kept = f.read_all(bases[1]);
  f.close();
  auto cp = read_checkpoint(f.log_dir());
  REQUIRE(cp.has_value());
  partition_checkpoint crashed = **cp;
  crashed.clean = false;
  crashed.log_start_offset = bases[1];
  crashed.recovery_point = bases[0];
  crashed.recovery_segment = bases[0];
  crashed.recovery_position = file_pos{0};
  REQUIRE(write_checkpoint(f.log_dir(), crashed).has_value());
  const auto log_of = [&](offset base) {
    return f.log_dir() / (segment::file_stem(base) + ".log");
  };
  std::filesystem::copy_file(log_of(bases.back()), log_of(bases[0]),
                             std::filesystem::copy_options::overwrite_existing);

  f.open(cfg);
  CHECK_FALSE(f.log->last_recovery().cut_at.has_value());
  CHECK(f.log->last_recovery().segments_deleted == 1);
  CHECK(f.log->log_start_offset() == bases[1]);
  CHECK(f.log->log_end_offset() == end);
  CHECK(f.read_all(bases[1]) == kept);
}

TEST_CASE("leader epochs are stamped into batches, checkpointed, and cut with the log") {
  log_fixture f;
  f.open();
  REQUIRE(f.log->begin_leader_epoch(leader_epoch{3}).has_value());
  REQUIRE(f.append(make_batch(2, 10, 1)).has_value());
  REQUIRE(f.log->begin_leader_epoch(leader_epoch{5}).has_value());
  REQUIRE(f.append(make_batch(2, 10, 2)).has_value());
  auto bytes = f.read_all(offset{2});
  auto h = parse_batch_header(bytes);
  REQUIRE(h.has_value());
  CHECK(h->partition_leader_epoch == leader_epoch{5});
  f.close();
  f.open();
  REQUIRE(f.log->leader_epochs().size() == 2);
  CHECK(f.log->leader_epochs()[1] == epoch_entry{leader_epoch{5}, offset{2}});
  REQUIRE(f.log->truncate_to(offset{2}).has_value());
  CHECK(f.log->leader_epochs().size() == 1);
  // What is appended next carries the epoch the history now ends with, as after a reopen.
  REQUIRE(f.append(make_batch(2, 10, 3)).has_value());
  auto after = parse_batch_header(f.read_all(offset{2}));
  REQUIRE(after.has_value());
  CHECK(after->partition_leader_epoch == leader_epoch{3});
}

}  // namespace sluice::test
