// Disk faults through the fault-injecting backend: a failed write leaves no readable trace and
// the log keeps going; a failed fdatasync fences the log until it is reopened.

#include <doctest/doctest.h>

#include <array>
#include <cerrno>
#include <optional>
#include <string>

#include "log_fixture.h"
#include "segment/errc.h"
#include "segment/io/fault_spec.h"

namespace sluice::test {

TEST_CASE("ENOSPC mid-append fails that append, leaves nothing partial, and appends resume") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(2, 100, 1)).has_value());
  auto good = f.read_all(offset{0});
  auto size_before = f.log->size_bytes();

  f.io->fail_next_write(ENOSPC, 37);  // a torn write: 37 bytes land, then the disk is full
  auto r = f.append(make_batch(2, 100, 2));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code.value() == ENOSPC);
  CHECK(r.error().message().find("No space left") != std::string::npos);
  CHECK(f.log->log_end_offset() == offset{2});
  CHECK(f.log->size_bytes() == size_before);
  CHECK(f.read_all(offset{0}) == good);

  auto again = f.append(make_batch(2, 100, 3));
  REQUIRE(again.has_value());
  CHECK(again->base_offset == offset{2});
}

TEST_CASE("while the disk stays full every append fails and reads keep working") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(2, 100, 1)).has_value());
  f.io->fail_all_writes(ENOSPC);
  for (int i = 0; i < 3; ++i) {
    auto r = f.append(make_batch(2, 100, 10 + i));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code.value() == ENOSPC);
    CHECK(f.log->read(offset{0}, 1000).has_value());
  }
  f.io->clear_faults();
  auto r = f.append(make_batch(2, 100, 20));
  REQUIRE(r.has_value());
  CHECK(r->base_offset == offset{2});
}

TEST_CASE("appends in flight behind a failed write fail too, in order") {
  log_fixture f;
  f.open();
  f.io->fail_next_write(EIO, 0);
  std::vector<result<append_info>> results;
  for (int i = 0; i < 5; ++i) {
    f.log->append(make_batch(1, 100, i), [&](result<append_info> r) { results.push_back(r); });
  }
  f.ctx.restart();
  while (results.size() < 5 && f.ctx.run_one() > 0) {
  }
  REQUIRE(results.size() == 5);
  for (const auto& r : results) CHECK_FALSE(r.has_value());
  CHECK(f.log->log_end_offset() == offset{0});
  CHECK(f.log->size_bytes() == 0);
  REQUIRE(f.append(make_batch(1, 100, 9)).has_value());
}

TEST_CASE(
    "a write failing while an earlier group commit is in flight fails only what is behind it") {
  log_fixture f;
  f.open();
  std::optional<result<append_info>> first;
  std::optional<result<append_info>> second;
  f.log->append(make_batch(2, 100, 1), [&](result<append_info> r) { first = r; });
  f.ctx.restart();
  f.ctx.poll_one();  // the end of the turn: its write and fdatasync are started
  REQUIRE_FALSE(first.has_value());
  f.io->fail_next_write(ENOSPC, 10);
  f.log->append(make_batch(2, 100, 2), [&](result<append_info> r) { second = r; });
  while (!(first && second) && f.ctx.run_one() > 0) {
  }
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->has_value());
  REQUIRE_FALSE(second->has_value());
  CHECK(second->error().code.value() == ENOSPC);
  CHECK(f.log->log_end_offset() == offset{2});
  CHECK(f.log->durable_end() == offset{2});
  auto third = f.append(make_batch(1, 100, 3));
  REQUIRE(third.has_value());
  CHECK(third->base_offset == offset{2});
  // What survives a crash is exactly what was acknowledged.
  f.crash();
  f.open();
  CHECK(f.log->log_end_offset() == offset{3});
}

TEST_CASE("a failed fdatasync takes the log offline; durable data stays readable") {
  log_fixture f;
  f.open();
  REQUIRE(f.append(make_batch(2, 100, 1)).has_value());
  f.io->fail_next_sync(EIO);
  auto r = f.append(make_batch(2, 100, 2));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code.value() == EIO);
  CHECK(f.log->offline());
  CHECK(f.log->visible_end() == offset{2});
  CHECK(f.log->read(offset{0}, 1000).has_value());
  auto refused = f.append(make_batch(2, 100, 3));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == make_error_code(log_errc::log_offline));
  // Recovery (reopen) brings it back.
  f.crash();
  f.io->clear_faults();
  f.open();
  CHECK_FALSE(f.log->offline());
  REQUIRE(f.append(make_batch(1, 10, 4)).has_value());
}

TEST_CASE("flush=interval acknowledges after the write and syncs on the timer") {
  log_fixture f;
  log_config cfg;
  cfg.flush = *flush_policy::parse("interval:1000");
  f.open(cfg);
  f.run_past_next_sync_tick(cfg.flush);  // no tick during the append (one came at 20 ms once)
  auto syncs = f.io->syncs();
  REQUIRE(f.append(make_batch(2, 100, 1)).has_value());
  CHECK(f.io->syncs() == syncs);
  CHECK(f.log->visible_end() == offset{2});
  CHECK(f.log->durable_end() == offset{0});
  CHECK(f.run_until([&] { return f.log->durable_end() == offset{2}; }));
  CHECK(f.io->syncs() > syncs);
}

// The timer's sync is a syncfs (the fixture's backend has a sync root), which cannot say which
// file lost pages: a failure fences the log like a failed fdatasync.
TEST_CASE("flush=interval: a failed sync on the timer takes the log offline at the durable end") {
  log_fixture f;
  log_config cfg;
  cfg.flush = *flush_policy::parse("interval:500");
  f.open(cfg);
  REQUIRE(f.append(make_batch(2, 100, 1)).has_value());
  REQUIRE(f.run_until([&] { return f.log->durable_end() == offset{2}; }));
  // A tick between this append and the fault would sync it, leaving the fault nothing to fail.
  f.run_past_next_sync_tick(cfg.flush);
  REQUIRE(f.append(make_batch(3, 100, 2)).has_value());
  CHECK(f.log->visible_end() == offset{5});
  f.io->fail_next_sync(EIO);
  CHECK(f.run_until([&] { return f.log->offline(); }));
  CHECK(f.log->visible_end() == offset{2});  // written but never durable: no longer served
  f.crash();  // an offline log's close reports the error; reopening brings it back
  f.open(cfg);
  CHECK_FALSE(f.log->offline());
  CHECK(f.read_all(offset{0}).size() > 0);
  CHECK(f.log->visible_end() >= offset{2});
}

TEST_CASE("flush policies parse and bad ones say what is wrong") {
  CHECK(flush_policy::parse("always")->kind == flush_policy::mode::always);
  auto iv = flush_policy::parse("interval:250");
  REQUIRE(iv.has_value());
  CHECK(iv->interval == std::chrono::milliseconds(250));
  auto bad = flush_policy::parse("sometimes");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().detail.find("interval:<ms>") != std::string::npos);
  CHECK_FALSE(flush_policy::parse("interval:0").has_value());
  // At most 100 years: longer ones overflowed the sync grid (a flush timer firing in a loop, or
  // a division by zero on open).
  CHECK(flush_policy::parse("interval:3153600000000").has_value());
  auto too_long = flush_policy::parse("interval:288230376151711744");
  REQUIRE_FALSE(too_long.has_value());
  CHECK(too_long.error().detail.find("100 years") != std::string::npos);
  CHECK_FALSE(flush_policy::parse("interval:10000000000000").has_value());
  const auto longest = *flush_policy::parse("interval:3153600000000");
  const auto now = std::chrono::steady_clock::now();
  CHECK(longest.next_sync_after(now) > now);
}

TEST_CASE("flush=interval syncs fall on a grid shared by every log with the interval") {
  const auto policy = *flush_policy::parse("interval:250");
  const std::chrono::steady_clock::time_point grid_point(std::chrono::milliseconds(250 * 4000));
  using std::chrono::milliseconds;
  // Logs whose timers are set at different moments of one interval sync at the same moment.
  CHECK(policy.next_sync_after(grid_point) == grid_point + milliseconds(250));
  CHECK(policy.next_sync_after(grid_point + milliseconds(1)) == grid_point + milliseconds(250));
  CHECK(policy.next_sync_after(grid_point + milliseconds(249)) == grid_point + milliseconds(250));
  CHECK(policy.next_sync_after(grid_point + milliseconds(250)) == grid_point + milliseconds(500));
  // Other intervals have grids of their own.
  const auto now = std::chrono::steady_clock::now();
  const auto next = flush_policy::parse("interval:1000")->next_sync_after(now);
  CHECK(next > now);
  CHECK(next <= now + milliseconds(1000));
  CHECK(next.time_since_epoch() % milliseconds(1000) == std::chrono::steady_clock::duration(0));
}

}  // namespace sluice::test

namespace sluice::test {

// A roll waits for no disk itself: the group commit after it syncs the sealed .log (the zeros
// kept ahead of its appends were cut off, zero_tail.h), the new .log, the sealed segment's two
// indexes (so a checkpoint may trust them) and the directory (so the new file's name survives a
// crash), and the append is acknowledged only once all five are on disk.
TEST_CASE("the append that rolls is acknowledged only once the indexes and directory are synced") {
  const std::array<std::string, 5> synced_in_order = {"00000000000000000000.log", ".log", ".index",
                                                      ".timeindex", "topic-0"};
  for (std::size_t failing = 0; failing <= synced_in_order.size(); ++failing) {
    CAPTURE(failing);
    log_fixture f;
    log_config cfg;
    cfg.segment_bytes = 4096;
    f.open(cfg);
    int seed = 0;
    while (f.log->size_bytes() + make_batch(2, 400, seed).size() <= cfg.segment_bytes) {
      REQUIRE(f.append(make_batch(2, 400, seed++)).has_value());
    }
    const auto syncs_before = f.io->syncs();
    if (failing < synced_in_order.size()) {
      io::fault_rule rule;
      rule.kind = io::fault_rule::op::sync;
      rule.err = EIO;
      rule.after = failing;
      f.io->add_rule(rule);
    }
    auto r = f.append(make_batch(2, 400, seed));
    CHECK(f.log->segment_count() == 2);
    if (failing == synced_in_order.size()) {  // no fault: acknowledged, after five syncs
      CHECK(r.has_value());
      CHECK(f.io->syncs() - syncs_before == 5);
      continue;
    }
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code.value() == EIO);
    const auto message = r.error().message();
    INFO(message);
    CHECK(message.find(synced_in_order[failing] + " ") != std::string::npos);
    CHECK(f.log->offline());
    f.crash();  // an offline log's close reports the error
  }
}

}  // namespace sluice::test

namespace sluice::test {

// close() fdatasyncs what the interval has not synced yet (and what a roll left); a failure
// there fences the log, and the close reports it once.
TEST_CASE("a failed fdatasync in close() takes the log offline and fails the close once") {
  log_fixture f;
  log_config cfg;
  cfg.flush = *flush_policy::parse(interval_without_timer);  // close() syncs it all
  cfg.segment_bytes = 4096;
  f.open(cfg);
  for (int i = 0; i < 8; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  REQUIRE(f.log->segment_count() > 1);  // a roll's syncs are waiting too
  f.io->fail_next_sync(EIO);
  int calls = 0;
  std::optional<result<void>> closed;
  f.log->close([&](result<void> r) {
    ++calls;
    closed = std::move(r);
  });
  f.ctx.restart();
  f.ctx.run();
  CHECK(calls == 1);
  REQUIRE(closed.has_value());
  REQUIRE_FALSE(closed->has_value());
  CHECK(closed->error().code == make_error_code(log_errc::log_offline));
  CHECK(closed->error().message().find("injected fault") != std::string::npos);
  CHECK(f.log->offline());
  f.crash();
}

}  // namespace sluice::test
