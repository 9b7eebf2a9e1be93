// The page cache a log keeps once its bytes are durable: page.cache.keep.bytes per topic, and
// a broker-wide budget shared among logs (segment/cache_drop_behind.h, page_cache_budget.h).

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "log_fixture.h"
#include "segment/cache_drop_behind.h"
#include "segment/page_cache_budget.h"
#include "tests/page_residency.h"

namespace sluice::test {
namespace {

constexpr std::uint64_t one_turn = 16 * 64 * 1024;

// Appends about `mib` MiB in 1 MiB turns, each acknowledged (so each its own group commit).
std::uint64_t append_mib_in_turns(log_fixture& f, int mib) {
  std::uint64_t written = 0;
  for (int turn = 0; turn < mib; ++turn) written += append_and_wait(f, 16, 64 * 1024);
  return written;
}

// The log's .log files, oldest first (their names are their base offsets, zero-padded).
std::vector<std::filesystem::path> log_files(const log_fixture& f) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(f.log_dir())) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

double resident_share_of(const std::filesystem::path& file) {
  return resident_share(file, 0, std::filesystem::file_size(file));
}

// Every file of `files` (the log's, oldest first) with `keep` bytes or more after it is gone
// from the page cache, down to its last page.
void check_dropped_behind(log_fixture& f, const std::vector<std::filesystem::path>& files,
                          std::uint64_t keep) {
  std::uint64_t after = 0;  // bytes in the files after files[i]
  for (std::size_t i = files.size(); i-- > 1;) {
    after += std::filesystem::file_size(files[i]);
    if (after < keep) continue;
    INFO("segment ", files[i - 1].filename().string());
    CHECK(f.run_until([&] { return resident_share_of(files[i - 1]) < 0.05; }));
  }
}

// Where the drops so far end (they are contiguous from the segment's start).
std::uint64_t dropped_to(const log_fixture& f) {
  const auto& ranges = f.io->drop_ranges();
  return ranges.empty() ? 0 : ranges.back().first + ranges.back().second;
}
}  // namespace

TEST_CASE("once durable, the log's page cache keeps only page.cache.keep.bytes behind its end") {
  log_fixture f;
  log_config cfg;
  cfg.page_cache_keep_bytes = 1 << 20;
  f.open(cfg);
  const std::uint64_t written = append_mib_in_turns(f, 12);
  const auto& ranges = f.io->drop_ranges();
  REQUIRE(ranges.size() >= 2);
  // From the segment's start, each drop reaching back over the last one's end (a folio that
  // straddled it is dropped whole now), ending on a page at least a step further.
  CHECK(ranges.front().first == 0);
  std::uint64_t expected_from = 0;  // where the drops so far end
  for (const auto& [from, length] : ranges) {
    CHECK(from <= expected_from);
    CHECK(expected_from - from <= cache_drop_behind::largest_folio_bytes);
    CHECK(from + length >= expected_from + cache_drop_behind::step_bytes(1 << 20));
    CHECK((from + length) % 4096 == 0);
    expected_from = from + length;
  }
  CHECK(expected_from <= written - (1 << 20));  // the last MiB is kept
  CHECK(written - expected_from < (1 << 20) + cache_drop_behind::step_bytes(1 << 20) + one_turn);

  // And the kernel did drop them (the backend's thread does it soon after the call).
  const auto file = f.log_dir() / "00000000000000000000.log";
  CHECK(f.run_until([&] { return resident_share(file, 0, expected_from) < 0.1; }));
  CHECK(resident_share(file, written - (1 << 20), written) > 0.9);
  CHECK(f.append(make_batch(3, 100, 99)).has_value());  // the log goes on as before
  CHECK(f.read_all(offset{0}).size() == written + make_batch(3, 100, 99).size());
}

TEST_CASE("a rolled segment's cached tail goes once page.cache.keep.bytes are durable after it") {
  log_fixture f;
  log_config cfg;
  cfg.page_cache_keep_bytes = 1 << 20;
  cfg.segment_bytes = 3 << 20;  // a roll every third turn or so
  f.open(cfg);
  append_mib_in_turns(f, 3);
  auto files = log_files(f);
  REQUIRE(files.size() == 2);
  const auto second_size = std::filesystem::file_size(files[1]);
  REQUIRE(second_size < (1 << 20));
  // Less than 1 MiB came after the first segment: what is left of the last MiB in it is kept.
  const auto first_size = std::filesystem::file_size(files[0]);
  CHECK(resident_share(files[0], first_size - ((1 << 20) - second_size), first_size) > 0.9);

  append_mib_in_turns(f, 8);
  files = log_files(f);
  REQUIRE(files.size() >= 4);
  // Every segment more than 1 MiB behind the durable end is gone from the page cache, down to
  // its last page; the newest keeps its last MiB.
  check_dropped_behind(f, files, 1 << 20);
  const auto last_size = std::filesystem::file_size(files.back());
  CHECK(resident_share(files.back(), last_size - (1 << 20), last_size) > 0.9);
}

TEST_CASE("segments rolled again after a cut into an earlier one are dropped as they go") {
  log_fixture f;
  log_config cfg;
  cfg.page_cache_keep_bytes = 1 << 20;
  cfg.segment_bytes = 1 << 20;
  f.open(cfg);
  append_mib_in_turns(f, 8);
  REQUIRE(log_files(f).size() >= 8);
  // Back into the first segment (as a follower truncating to its leader does): it is active
  // again, the later ones are gone, and the rolls that follow must be dropped behind as before.
  REQUIRE(f.log->truncate_to(offset{4}).has_value());
  REQUIRE(log_files(f).size() == 1);
  append_mib_in_turns(f, 4);  // fewer segments than before the cut
  const auto files = log_files(f);
  REQUIRE(files.size() >= 4);
  check_dropped_behind(f, files, 1 << 20);
}

TEST_CASE("page.cache.keep.bytes = -1 leaves the page cache to the kernel") {
  log_fixture f;
  log_config cfg;
  cfg.page_cache_keep_bytes = -1;
  f.open(cfg);
  const std::uint64_t written = append_mib_in_turns(f, 12);
  CHECK(f.io->drop_ranges().empty());
  const auto file = f.log_dir() / "00000000000000000000.log";
  CHECK(resident_share(file, 0, written / 4096 * 4096) > 0.9);
}

TEST_CASE("a bad page.cache.keep.bytes is refused") {
  log_config cfg;
  cfg.page_cache_keep_bytes = -2;
  auto r = cfg.validate();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().find("page.cache.keep.bytes") != std::string::npos);
}

TEST_CASE("the page cache budget is shared evenly among active logs, never above a topic's") {
  auto budget = std::make_shared<page_cache_budget>(8 << 20);
  constexpr std::int64_t t0 = 1'000'000;
  page_cache_budget::share a(budget);
  CHECK(budget->active_logs() == 0);  // no durable advance yet
  a.note_durable(t0);
  CHECK(a.keep_bytes(64 << 20) == 8 << 20);
  CHECK(a.keep_bytes(1 << 20) == 1 << 20);  // the topic keeps less than the share
  CHECK(a.keep_bytes(-1) == -1);            // a topic that keeps everything says so on purpose
  {
    page_cache_budget::share b(budget);
    page_cache_budget::share c(budget);
    page_cache_budget::share d(budget);
    b.note_durable(t0);
    c.note_durable(t0);
    d.note_durable(t0);
    CHECK(budget->active_logs() == 4);
    CHECK(a.keep_bytes(64 << 20) == 2 << 20);

    // d goes idle: it leaves the count once, after idle_after without a durable advance.
    const std::int64_t later = t0 + page_cache_budget::idle_after.count();
    a.note_durable(later);
    b.note_durable(later);
    c.note_durable(later);
    CHECK_FALSE(d.expire_if_idle(later - 1));
    CHECK(d.expire_if_idle(later));
    CHECK_FALSE(d.expire_if_idle(later + 1));
    CHECK_FALSE(a.expire_if_idle(later));
    CHECK(budget->active_logs() == 3);
    CHECK(a.keep_bytes(64 << 20) == (8 << 20) / 3);
    d.note_durable(later + 5);  // written to again: counts again
    CHECK(budget->active_logs() == 4);
  }
  CHECK(budget->active_logs() == 1);  // the shares that went took their place with them
  CHECK(a.keep_bytes(64 << 20) == 8 << 20);

  auto none = std::make_shared<page_cache_budget>(0);  // nothing kept behind the durable end
  page_cache_budget::share n(none);
  n.note_durable(t0);
  CHECK(n.keep_bytes(64 << 20) == 0);
}

TEST_CASE("a log in a page cache budget keeps its share when that is less than its topic's") {
  auto budget = std::make_shared<page_cache_budget>(4 << 20);
  log_fixture f;
  f.open();  // page.cache.keep.bytes: 64 MiB by default, more than this test writes
  f.log->join_page_cache_budget(budget);
  std::vector<std::unique_ptr<page_cache_budget::share>> others;  // three more active logs
  for (int i = 0; i < 3; ++i) {
    others.push_back(std::make_unique<page_cache_budget::share>(budget));
    others.back()->note_durable(f.clk.now_ms());
  }

  constexpr std::uint64_t share = 1 << 20;
  std::uint64_t written = append_mib_in_turns(f, 8);
  REQUIRE(budget->active_logs() == 4);
  CHECK(dropped_to(f) <= written - share);
  CHECK(written - dropped_to(f) < share + cache_drop_behind::step_bytes(share) + one_turn);
  const auto file = f.log_dir() / "00000000000000000000.log";
  CHECK(f.run_until([&] { return resident_share(file, 0, dropped_to(f)) < 0.1; }));

  // The other logs go idle: this one's share becomes the whole budget, and it keeps that much.
  f.clk.advance(page_cache_budget::idle_after);
  for (auto& o : others) CHECK(o->expire_if_idle(f.clk.now_ms()));
  written += append_mib_in_turns(f, 8);
  constexpr std::uint64_t whole = 4 << 20;
  CHECK(written - dropped_to(f) >= whole);
  CHECK(written - dropped_to(f) < whole + cache_drop_behind::step_bytes(whole) + one_turn);
}

TEST_CASE("a log idle for a while leaves the page cache budget and drops what it kept") {
  auto budget = std::make_shared<page_cache_budget>(64 << 20);
  log_fixture f;
  f.open();
  f.log->join_page_cache_budget(budget);
  const std::uint64_t written = append_mib_in_turns(f, 3);  // under its share: all kept
  CHECK(f.io->drop_ranges().empty());
  CHECK(budget->active_logs() == 1);

  f.log->check_page_cache_idle();  // not idle yet
  CHECK(f.io->drop_ranges().empty());
  f.clk.advance(page_cache_budget::idle_after);
  f.log->check_page_cache_idle();
  CHECK(budget->active_logs() == 0);
  REQUIRE(f.io->drop_ranges().size() == 1);
  CHECK(f.io->drop_ranges().front().first == 0);
  CHECK(dropped_to(f) == written / 4096 * 4096);  // every whole durable page
  const auto file = f.log_dir() / "00000000000000000000.log";
  CHECK(f.run_until([&] { return resident_share(file, 0, dropped_to(f)) < 0.1; }));

  // Written to again, it counts again.
  append_and_wait(f, 1, 100);
  CHECK(budget->active_logs() == 1);
}

TEST_CASE("an idle log drops what it kept of its rolled segments too") {
  auto budget = std::make_shared<page_cache_budget>(64 << 20);
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 1 << 20;
  f.open(cfg);
  f.log->join_page_cache_budget(budget);
  append_mib_in_turns(f, 4);  // under its share: all kept
  const auto files = log_files(f);
  REQUIRE(files.size() >= 4);
  for (const auto& file : files) CHECK(resident_share_of(file) > 0.9);

  f.clk.advance(page_cache_budget::idle_after);
  f.log->check_page_cache_idle();
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {  // the active one keeps its partial page
    INFO("segment ", files[i].filename().string());
    CHECK(f.run_until([&] { return resident_share_of(files[i]) < 0.05; }));
  }
}

}  // namespace sluice::test
