// The periodic checkpoint: it runs through the backend while appends go on, installs only when
// every fdatasync it depends on succeeded, and never replaces a checkpoint written after it
// started.

#include "segment/checkpoint.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "log_fixture.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// Makes the next acknowledged group commit start a periodic checkpoint.
void make_checkpoint_due(log_fixture& f) {
  f.clk.advance(f.config.checkpoint_interval + 1ms);
}

ino_t checkpoint_inode(const log_fixture& f) {
  struct stat st {};
  REQUIRE(::stat((f.log_dir() / "checkpoint").c_str(), &st) == 0);
  return st.st_ino;
}

partition_checkpoint on_disk(const log_fixture& f) {
  auto cp = read_checkpoint(f.log_dir());
  REQUIRE_MESSAGE(cp.has_value(), (cp ? "" : cp.error().message()));
  REQUIRE(cp->has_value());
  return **cp;
}

}  // namespace

TEST_CASE("the periodic checkpoint moves the recovery point to what is durable") {
  log_fixture f;
  f.open();
  for (int i = 0; i < 10; ++i) REQUIRE(f.append(make_batch(3, 200, i)).has_value());
  CHECK(f.log->recovery_point() < f.log->durable_end());

  make_checkpoint_due(f);
  REQUIRE(f.append(make_batch(3, 200, 10)).has_value());
  REQUIRE(f.run_until([&] { return f.log->recovery_point() == f.log->durable_end(); }));
  CHECK(on_disk(f).recovery_point == offset{33});
  CHECK_FALSE(std::filesystem::exists(f.log_dir() / "periodic.checkpoint.tmp"));

  // A crash now re-scans nothing: the checkpoint trusted everything that was durable.
  f.crash();
  f.open();
  CHECK_FALSE(f.log->last_recovery().clean);
  CHECK(f.log->last_recovery().bytes_scanned == 0);
  CHECK(f.log->log_end_offset() == offset{33});
}

// The checkpoint a periodic one replaces is held open across the rename and closed by the
// backend, so that freeing its blocks (a discard on some mounts) does not stall the shard.
TEST_CASE("each periodic checkpoint's replaced file is closed by the backend, none leaks") {
  log_fixture f;
  f.open();
  const auto dir = f.log_dir();
  for (int round = 0; round < 3; ++round) {
    make_checkpoint_due(f);
    REQUIRE(f.append(make_batch(3, 200, round)).has_value());
    REQUIRE(f.run_until([&] { return f.log->recovery_point() == f.log->durable_end(); }));
    CHECK(on_disk(f).recovery_point == offset{3 * (round + 1)});
  }
  CHECK(f.run_until([&] { return open_deleted_files(dir, "/checkpoint") == 0; }));
}

TEST_CASE("a checkpoint written while a periodic one is in flight is not replaced by it") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(3, 200, 0)).has_value());
  make_checkpoint_due(f);

  // The acknowledgement runs after the group commit that started the periodic checkpoint, so
  // its periodic.checkpoint.tmp is written and its fdatasyncs are still with the backend.
  std::optional<result<append_info>> acked;
  bool tmp_was_pending = false;
  f.log->append(make_batch(3, 200, 1), [&](result<append_info> r) {
    tmp_was_pending = std::filesystem::exists(f.log_dir() / "periodic.checkpoint.tmp");
    REQUIRE(f.log->begin_leader_epoch(leader_epoch{7}).has_value());
    acked = std::move(r);
  });
  REQUIRE(f.run_until([&] { return acked.has_value(); }));
  REQUIRE(acked->has_value());
  REQUIRE(tmp_was_pending);

  // The periodic checkpoint ends (installed or discarded) with its .tmp file gone; how long its
  // fdatasyncs take depends on what else the disk is writing.
  REQUIRE(f.run_until(
      [&] { return !std::filesystem::exists(f.log_dir() / "periodic.checkpoint.tmp"); }));
  const auto cp = on_disk(f);
  REQUIRE(cp.leader_epochs.size() == 1);
  CHECK(cp.leader_epochs[0].epoch == leader_epoch{7});
  CHECK(cp.leader_epochs[0].start_offset == offset{6});
  CHECK_FALSE(std::filesystem::exists(f.log_dir() / "periodic.checkpoint.tmp"));
}

TEST_CASE("a periodic checkpoint whose fdatasync fails leaves the previous one in place") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(3, 200, 0)).has_value());
  REQUIRE(f.log->checkpoint().has_value());
  const offset before = on_disk(f).recovery_point;

  // The group commit's fdatasync goes through; the first of the checkpoint's fails.
  io::fault_rule first_checkpoint_sync;
  first_checkpoint_sync.kind = io::fault_rule::op::sync;
  first_checkpoint_sync.err = EIO;
  first_checkpoint_sync.after = 1;
  first_checkpoint_sync.text = "sync:EIO:after=1";
  f.io->add_rule(first_checkpoint_sync);
  auto warnings = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  const auto previous_logger = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", warnings));
  make_checkpoint_due(f);
  REQUIRE(f.append(make_batch(3, 200, 1)).has_value());
  // The warning, which names the file whose fdatasync failed (not only the log's directory),
  // comes when the checkpoint has ended.
  const std::string failed_file = "fdatasync " + (f.log_dir() / "").string();
  const auto warned = [&] {
    const auto lines = warnings->last_formatted();
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find("checkpoint failed") != std::string::npos &&
             line.find(failed_file) != std::string::npos;
    });
  };
  CHECK(f.run_until(warned));
  spdlog::set_default_logger(previous_logger);
  CHECK(on_disk(f).recovery_point == before);
  CHECK_FALSE(f.log->offline());
  CHECK_FALSE(std::filesystem::exists(f.log_dir() / "periodic.checkpoint.tmp"));

  // The log goes on, and the next periodic checkpoint succeeds.
  make_checkpoint_due(f);
  REQUIRE(f.append(make_batch(3, 200, 2)).has_value());
  REQUIRE(f.run_until([&] { return f.log->recovery_point() == f.log->durable_end(); }));
  CHECK(on_disk(f).recovery_point == offset{9});
}

TEST_CASE("close waits for a periodic checkpoint in flight, then writes the clean one") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(3, 200, 0)).has_value());
  make_checkpoint_due(f);
  REQUIRE(f.append(make_batch(3, 200, 1)).has_value());  // starts the periodic checkpoint
  f.close();
  f.open();
  CHECK(f.log->last_recovery().clean);
  CHECK(f.log->log_end_offset() == offset{6});
  CHECK_FALSE(std::filesystem::exists(f.log_dir() / "periodic.checkpoint.tmp"));
}

}  // namespace sluice::test

namespace sluice::test {

// A group commit that began before a roll can finish first and make the end of the sealed
// segment durable, while the sealed indexes' fdatasyncs ride the next group: a checkpoint
// written then starts recovery at the sealed segment, not past indexes not yet on disk.
TEST_CASE("a checkpoint does not trust a sealed segment's indexes before their sync ends") {
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 4096;
  f.open(cfg);
  int seed = 0;
  // Fill the segment to one batch short of rolling.
  while (f.log->size_bytes() + 2 * make_batch(2, 400, seed).size() <= cfg.segment_bytes) {
    REQUIRE(f.append(make_batch(2, 400, seed++)).has_value());
  }
  make_checkpoint_due(f);
  const auto inode_before = checkpoint_inode(f);
  std::optional<result<append_info>> last_in_old;
  std::optional<result<append_info>> first_in_new;
  f.log->append(make_batch(2, 400, seed++), [&](auto r) { last_in_old = std::move(r); });
  f.ctx.restart();
  REQUIRE(f.ctx.run_one() == 1);  // the end of the turn: its group commit starts
  f.log->append(make_batch(2, 400, seed++), [&](auto r) { first_in_new = std::move(r); });
  REQUIRE(f.log->segment_count() == 2);  // that append rolled
  const offset new_base = f.log->segment_bases().back();

  REQUIRE(f.run_until([&] { return last_in_old && first_in_new; }));
  REQUIRE(last_in_old->has_value());
  REQUIRE(first_in_new->has_value());
  // The periodic checkpoint started when the first group commit finished, durable up to the
  // new segment's base; it is installed (renamed over the old one) once its fdatasyncs end.
  REQUIRE(f.run_until([&] { return checkpoint_inode(f) != inode_before; }));
  CHECK(f.log->durable_end() > new_base);
  const auto cp = on_disk(f);
  CHECK(cp.recovery_point == offset{0});
  CHECK(cp.recovery_segment == offset{0});
  CHECK(cp.recovery_position == file_pos{0});
}

}  // namespace sluice::test
