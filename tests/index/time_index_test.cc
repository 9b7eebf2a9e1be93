#include "index/time_index.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "index/errc.h"
#include "index/index_format.h"
#include "tests/index/test_support.h"

namespace sluice::time_index_tests {
namespace {

using test::aborts;
using test::read_bytes;
using test::size_of;
using test::temp_dir;
using test::write_bytes;

constexpr offset base{500};
constexpr std::size_t max_bytes = 4800;  // 400 entries

using entry = time_index::entry;

entry e(std::int64_t ts, std::int64_t off) {
  return {ts, offset{off}};
}

time_index open_index(const std::filesystem::path& path, std::size_t max = max_bytes) {
  auto index = time_index::open(path, base, max);
  REQUIRE(index);
  return std::move(index).value();
}

// Appends (100k, base+10k) for k = 1..n.
void fill(time_index& index, int n) {
  for (int k = 1; k <= n; ++k) REQUIRE(index.append(100 * k, base + 10 * k));
}

std::vector<entry> entries(const time_index& index) {
  std::vector<entry> out;
  for (std::size_t i = 0; i < index.entry_count(); ++i) out.push_back(*index.entry_at(i));
  return out;
}

// Raw 12-byte entries, big-endian, for forging files.
std::vector<std::uint8_t> raw(std::initializer_list<std::pair<std::int64_t, std::uint32_t>> es) {
  std::vector<std::uint8_t> out;
  for (auto [ts, rel] : es) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(ts) >> shift));
    }
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(rel >> shift));
  }
  return out;
}

TEST_CASE("a new time index is empty and preallocated to max_bytes") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  CHECK(index.entry_count() == 0);
  CHECK(index.max_entries() == 400);
  CHECK_FALSE(index.last_entry());
  CHECK_FALSE(index.lookup(1000));
  CHECK(size_of(dir / "0.timeindex") == max_bytes);
}

TEST_CASE("the default max size is rounded down to whole 12-byte entries like Kafka's") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex", index_format::default_max_bytes);
  CHECK(index.max_entries() == 873813);
  CHECK(size_of(dir / "0.timeindex") == 873813 * 12);
  REQUIRE(index.close());
  CHECK(open_index(dir / "0.timeindex", index_format::default_max_bytes).max_entries() == 873813);
}

TEST_CASE("append keeps only a new maximum timestamp") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  CHECK(index.append(100, offset{510}));
  CHECK_FALSE(index.append(100, offset{520}));
  CHECK_FALSE(index.append(50, offset{530}));
  CHECK(index.append(101, offset{530}));
  CHECK(index.append(200, offset{530}));  // the same offset may carry a larger timestamp
  CHECK(entries(index) == std::vector{e(100, 510), e(101, 530), e(200, 530)});
}

TEST_CASE("an empty time index ignores batches without timestamps") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  CHECK_FALSE(index.append(index_format::no_timestamp, offset{510}));
  CHECK(index.entry_count() == 0);
  CHECK(index.append(0, offset{510}));
}

TEST_CASE("time lookup returns the greatest entry at or below the timestamp") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  fill(index, 5);
  CHECK_FALSE(index.lookup(99));
  CHECK_FALSE(index.lookup(-1));
  CHECK(index.lookup(100) == e(100, 510));
  CHECK(index.lookup(299) == e(200, 520));
  CHECK(index.lookup(500) == e(500, 550));
  CHECK(index.lookup(INT64_MAX) == e(500, 550));
}

TEST_CASE("the time index bytes on disk are big-endian like Kafka's") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  REQUIRE(index.append(0x0102030405060708, base + 0x0A0B0C0D));
  REQUIRE(index.flush());
  const auto bytes = read_bytes(dir / "0.timeindex");
  REQUIRE(bytes.size() == max_bytes);
  CHECK(std::vector(bytes.begin(), bytes.begin() + 16) ==
        std::vector<std::uint8_t>{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  //
                                  0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 0});
}

TEST_CASE("a trimmed time index reopens with exactly its entries") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.timeindex");
    fill(index, 3);
    REQUIRE(index.close());
    CHECK(size_of(dir / "0.timeindex") == 36);
  }
  auto index = open_index(dir / "0.timeindex");
  CHECK(entries(index) == std::vector{e(100, 510), e(200, 520), e(300, 530)});
  CHECK(index.append(400, offset{540}));
}

TEST_CASE("a time index reopened after a crash keeps its valid prefix") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.timeindex");
    fill(index, 4);
    REQUIRE(index.flush());
  }  // destroyed without close(), as after a crash
  CHECK(open_index(dir / "0.timeindex").last_entry() == e(400, 540));
}

TEST_CASE("a preallocated time index stops at the first all-zero entry") {
  temp_dir dir;
  auto bytes = raw({{100, 10}, {0, 0}, {300, 30}});
  bytes.resize(max_bytes);
  write_bytes(dir / "0.timeindex", bytes);
  CHECK(entries(open_index(dir / "0.timeindex")) == std::vector{e(100, 510)});
}

TEST_CASE("time truncate_to drops entries at and above the offset, also after a crash") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.timeindex");
    REQUIRE(index.append(100, offset{510}));
    REQUIRE(index.append(200, offset{520}));
    REQUIRE(index.append(300, offset{520}));
    REQUIRE(index.append(400, offset{530}));
    index.truncate_to(offset{521});
    CHECK(entries(index) == std::vector{e(100, 510), e(200, 520), e(300, 520)});
    index.truncate_to(offset{520});
    CHECK(entries(index) == std::vector{e(100, 510)});
    REQUIRE(index.flush());
  }
  CHECK(entries(open_index(dir / "0.timeindex")) == std::vector{e(100, 510)});
}

TEST_CASE("time clear drops every entry") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  fill(index, 3);
  index.clear();
  CHECK(index.entry_count() == 0);
  CHECK(index.append(50, offset{501}));  // the old maximum no longer applies
}

TEST_CASE("a full time index reports is_full after max_bytes/12 entries") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex", 40);  // rounded down to 3 entries
  CHECK(index.max_entries() == 3);
  fill(index, 3);
  CHECK(index.is_full());
  CHECK_FALSE(index.append(300, offset{540}));  // not a new maximum
  CHECK_FALSE(index.append(900, offset{540}));  // a new maximum, dropped: no room
  CHECK(index.entry_count() == 3);
}

TEST_CASE("a new maximum at an offset below the last entry's aborts") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  fill(index, 2);
  CHECK(aborts([&] { (void)index.append(900, offset{519}); }));  // offset below the last
  CHECK(aborts([&] { (void)index.append(900, offset{499}); }));  // below base
  CHECK_FALSE(index.append(150, offset{515}));  // not a new maximum: nothing written, no check
  CHECK(index.entry_count() == 2);
}

TEST_CASE("a trimmed time index is full until regrow") {
  temp_dir dir;
  auto index = open_index(dir / "0.timeindex");
  fill(index, 2);
  REQUIRE(index.trim());
  CHECK(index.is_full());
  REQUIRE(index.regrow());
  CHECK(index.append(300, offset{530}));
}

TEST_CASE("time sanity_check names the first out-of-order entry") {
  temp_dir dir;
  write_bytes(dir / "0.timeindex", raw({{100, 10}, {200, 20}, {200, 30}, {50, 40}}));
  auto index = open_index(dir / "0.timeindex");
  auto checked = index.sanity_check();
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == index_errc::corrupt_index);
  CHECK(checked.error().detail.find("entry 2 (timestamp 200, offset 530)") != std::string::npos);
}

TEST_CASE("time sanity_check rejects decreasing offsets and accepts equal ones") {
  temp_dir dir;
  write_bytes(dir / "0.timeindex", raw({{100, 10}, {200, 10}, {300, 5}}));
  auto checked = open_index(dir / "0.timeindex").sanity_check();
  REQUIRE_FALSE(checked);
  CHECK(checked.error().detail.find("entry 2 ") != std::string::npos);
}

TEST_CASE("a file whose size is not a multiple of 12 is a corrupt time index") {
  temp_dir dir;
  write_bytes(dir / "0.timeindex", raw({{100, 10}, {200, 20}}));
  std::filesystem::resize_file(dir / "0.timeindex", 16);
  auto index = time_index::open(dir / "0.timeindex", base, max_bytes);
  REQUIRE_FALSE(index);
  CHECK(index.error().code == index_errc::corrupt_index);
  CHECK(size_of(dir / "0.timeindex") == 16);
}

}  // namespace
}  // namespace sluice::time_index_tests
