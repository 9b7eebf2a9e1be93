#include "index/offset_index.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "index/errc.h"
#include "tests/index/test_support.h"

namespace sluice::offset_index_tests {
namespace {

using test::aborts;
using test::read_bytes;
using test::size_of;
using test::temp_dir;
using test::write_bytes;

constexpr offset base{1000};
constexpr std::size_t max_bytes = 4096;

using entry = offset_index::entry;

entry e(std::int64_t off, std::uint64_t pos) {
  return {offset{off}, file_pos{pos}};
}

offset_index open_index(const std::filesystem::path& path, std::size_t max = max_bytes) {
  auto index = offset_index::open(path, base, max);
  REQUIRE(index);
  return std::move(index).value();
}

// Appends (base+10k, 4096k) for k = 1..n.
void fill(offset_index& index, int n) {
  for (int k = 1; k <= n; ++k) {
    index.append(base + 10 * k, file_pos{4096U * static_cast<std::uint64_t>(k)});
  }
}

std::vector<entry> entries(const offset_index& index) {
  std::vector<entry> out;
  for (std::size_t i = 0; i < index.entry_count(); ++i) out.push_back(*index.entry_at(i));
  return out;
}

// Raw 8-byte entries, big-endian, for forging files.
std::vector<std::uint8_t> raw(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> es) {
  std::vector<std::uint8_t> out;
  for (auto [rel, pos] : es) {
    for (std::uint32_t v : {rel, pos}) {
      for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
      }
    }
  }
  return out;
}

TEST_CASE("a new offset index is empty and preallocated to max_bytes") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  CHECK(index.entry_count() == 0);
  CHECK(index.max_entries() == max_bytes / 8);
  CHECK(index.base_offset() == base);
  CHECK_FALSE(index.last_entry());
  CHECK_FALSE(index.lookup(base + 5));
  CHECK(size_of(dir / "0.index") == max_bytes);
}

TEST_CASE("appended entries are read back in order") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 3);
  CHECK(entries(index) == std::vector{e(1010, 4096), e(1020, 8192), e(1030, 12288)});
  CHECK(index.last_entry() == e(1030, 12288));
  CHECK_FALSE(index.entry_at(3));
}

TEST_CASE("appended entries reach the file on write_pending, and lookups see them before") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 2);
  index.write_pending();
  index.append(offset{1030}, file_pos{12288});
  index.append(offset{1040}, file_pos{16384});
  CHECK(index.lookup(offset{1035}) == e(1030, 12288));  // pending entries answer lookups
  CHECK(entries(index) ==
        std::vector{e(1010, 4096), e(1020, 8192), e(1030, 12288), e(1040, 16384)});
  auto bytes = read_bytes(dir / "0.index");
  REQUIRE(bytes.size() == max_bytes);
  CHECK(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 16) ==
        raw({{10, 4096}, {20, 8192}}));
  CHECK(std::all_of(bytes.begin() + 16, bytes.end(), [](auto b) { return b == 0; }));

  index.write_pending();  // one pwrite; lookups now read it through the mapping
  bytes = read_bytes(dir / "0.index");
  CHECK(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 32) ==
        raw({{10, 4096}, {20, 8192}, {30, 12288}, {40, 16384}}));
  CHECK(index.lookup(offset{1045}) == e(1040, 16384));
}

TEST_CASE("flush, truncate and trim write the pending entries first") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.index");
    fill(index, 3);
    REQUIRE(index.flush());
    CHECK(entries(open_index(dir / "0.index")) ==  // another reader sees the file
          std::vector{e(1010, 4096), e(1020, 8192), e(1030, 12288)});
    index.append(offset{1040}, file_pos{16384});
    index.append(offset{1050}, file_pos{20480});
    index.truncate_to(offset{1045});  // a pending entry survives it, one goes
    CHECK(entries(index).size() == 4);
    index.append(offset{1060}, file_pos{24576});
    REQUIRE(index.trim());
  }
  CHECK(size_of(dir / "0.index") == 5 * 8);
  auto again = open_index(dir / "0.index");
  CHECK(entries(again) ==
        std::vector{e(1010, 4096), e(1020, 8192), e(1030, 12288), e(1040, 16384), e(1060, 24576)});
}

TEST_CASE("lookup returns the greatest entry at or below the target") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 5);
  CHECK_FALSE(index.lookup(offset{1009}));
  CHECK_FALSE(index.lookup(offset{0}));
  CHECK(index.lookup(offset{1010}) == e(1010, 4096));
  CHECK(index.lookup(offset{1029}) == e(1020, 8192));
  CHECK(index.lookup(offset{1030}) == e(1030, 12288));
  CHECK(index.lookup(offset{1050}) == e(1050, 20480));
  CHECK(index.lookup(offset{999999}) == e(1050, 20480));
}

TEST_CASE("the bytes on disk are big-endian like Kafka's") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  index.append(base + 0x01020304, file_pos{0x0A0B0C0D});
  index.append(base + 0x7FFFFFFF, file_pos{0xFFFFFFFE});
  REQUIRE(index.flush());
  const auto bytes = read_bytes(dir / "0.index");
  REQUIRE(bytes.size() == max_bytes);
  CHECK(std::vector(bytes.begin(), bytes.begin() + 24) ==
        std::vector<std::uint8_t>{0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B, 0x0C, 0x0D,  //
                                  0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,  //
                                  0,    0,    0,    0,    0,    0,    0,    0});
}

TEST_CASE("relative offsets and positions use the whole u32 range") {
  temp_dir dir;
  auto index = offset_index::open(dir / "0.index", offset{std::int64_t{1} << 40}, max_bytes);
  REQUIRE(index);
  const offset far = index->base_offset() + 0xFFFFFFFF;
  index->append(far, file_pos{0xFFFFFFFF});
  CHECK(index->lookup(far + 1) == entry{far, file_pos{0xFFFFFFFF}});
}

TEST_CASE("close trims the file to its entries") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 3);
  REQUIRE(index.close());
  CHECK(size_of(dir / "0.index") == 24);
}

TEST_CASE("a trimmed index reopens with exactly its entries and room to append") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.index");
    fill(index, 3);
    REQUIRE(index.close());
  }
  auto index = open_index(dir / "0.index");
  CHECK(entries(index) == std::vector{e(1010, 4096), e(1020, 8192), e(1030, 12288)});
  CHECK(size_of(dir / "0.index") == max_bytes);
  index.append(offset{1040}, file_pos{16384});
  CHECK(index.entry_count() == 4);
}

TEST_CASE("an empty index closes to an empty file and reopens empty") {
  temp_dir dir;
  REQUIRE(open_index(dir / "0.index").close());
  CHECK(size_of(dir / "0.index") == 0);
  CHECK(open_index(dir / "0.index").entry_count() == 0);
}

TEST_CASE("an index reopened after a crash keeps its valid prefix") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.index");
    fill(index, 4);
    REQUIRE(index.flush());
  }  // destroyed without close(): still preallocated, as after a crash
  CHECK(size_of(dir / "0.index") == max_bytes);
  auto index = open_index(dir / "0.index");
  CHECK(index.entry_count() == 4);
  CHECK(index.last_entry() == e(1040, 16384));
}

TEST_CASE("a preallocated index stops at the first all-zero entry") {
  temp_dir dir;
  // Entry 2 never reached the disk but entry 3 did (pages written back out of order).
  auto bytes = raw({{10, 4096}, {20, 8192}, {0, 0}, {40, 16384}});
  bytes.resize(max_bytes);
  write_bytes(dir / "0.index", bytes);
  auto index = open_index(dir / "0.index");
  CHECK(entries(index) == std::vector{e(1010, 4096), e(1020, 8192)});
}

TEST_CASE("truncate_to drops entries at and above the offset") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 5);
  index.truncate_to(offset{1035});
  CHECK(entries(index) == std::vector{e(1010, 4096), e(1020, 8192), e(1030, 12288)});
  index.truncate_to(offset{1030});
  CHECK(index.last_entry() == e(1020, 8192));
  index.truncate_to(offset{5000});
  CHECK(index.entry_count() == 2);
  index.append(offset{1025}, file_pos{9000});  // appending resumes after the cut
  CHECK(index.last_entry() == e(1025, 9000));
}

TEST_CASE("truncated entries do not come back after a crash") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.index");
    fill(index, 5);
    index.truncate_to(offset{1030});
    REQUIRE(index.flush());
  }
  CHECK(open_index(dir / "0.index").entry_count() == 2);
}

TEST_CASE("a trimmed index truncated before a crash reopens without the truncated tail") {
  temp_dir dir;
  {
    auto index = open_index(dir / "0.index");
    fill(index, 5);
    REQUIRE(index.trim());
    index.truncate_to(offset{1030});
    REQUIRE(index.flush());
  }
  CHECK(size_of(dir / "0.index") == 40);
  auto index = open_index(dir / "0.index");
  CHECK(entries(index) == std::vector{e(1010, 4096), e(1020, 8192)});
  CHECK(index.sanity_check());
}

TEST_CASE("clear drops every entry") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 3);
  index.clear();
  CHECK(index.entry_count() == 0);
  CHECK_FALSE(index.lookup(offset{2000}));
  REQUIRE(index.flush());
  CHECK(read_bytes(dir / "0.index") == std::vector<std::uint8_t>(max_bytes, 0));
}

TEST_CASE("a full index reports is_full after max_bytes/8 entries") {
  temp_dir dir;
  auto index = open_index(dir / "0.index", 36);  // rounded down to 4 entries
  CHECK(index.max_entries() == 4);
  fill(index, 3);
  CHECK_FALSE(index.is_full());
  index.append(offset{1040}, file_pos{16384});
  CHECK(index.is_full());
  CHECK(size_of(dir / "0.index") == 32);
}

TEST_CASE("appending to a full index is a broken invariant that aborts") {
  temp_dir dir;
  auto index = open_index(dir / "0.index", 16);
  fill(index, 2);
  REQUIRE(index.is_full());
  CHECK(aborts([&] { index.append(offset{1030}, file_pos{12288}); }));
  CHECK(index.entry_count() == 2);
}

TEST_CASE("appending out of order or below the base aborts") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 2);
  CHECK(aborts([&] { index.append(offset{1020}, file_pos{9000}); }));         // offset not above
  CHECK(aborts([&] { index.append(offset{1030}, file_pos{8192}); }));         // position not above
  CHECK(aborts([&] { index.append(offset{999}, file_pos{99999}); }));         // below base
  CHECK(aborts([&] { index.append(base + 0x100000000, file_pos{99999}); }));  // past u32
  CHECK_FALSE(aborts([&] { index.append(offset{1030}, file_pos{12288}); }));
}

TEST_CASE("a trimmed index is full until regrow") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 2);
  REQUIRE(index.trim());
  CHECK(index.is_full());
  CHECK(index.max_entries() == 2);
  CHECK(index.lookup(offset{1025}) == e(1020, 8192));
  REQUIRE(index.regrow());
  CHECK_FALSE(index.is_full());
  index.append(offset{1030}, file_pos{12288});
  CHECK(index.entry_count() == 3);
  CHECK(size_of(dir / "0.index") == max_bytes);
}

TEST_CASE("sanity_check accepts ordered entries") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  CHECK(index.sanity_check());
  fill(index, 4);
  CHECK(index.sanity_check());
}

TEST_CASE("sanity_check names the first out-of-order entry") {
  temp_dir dir;
  write_bytes(dir / "0.index", raw({{10, 4096}, {20, 8192}, {15, 9000}, {5, 100}}));
  auto index = open_index(dir / "0.index");
  auto checked = index.sanity_check();
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == index_errc::corrupt_index);
  CHECK(checked.error().detail.find("entry 2 (offset 1015, position 9000)") != std::string::npos);
  CHECK(checked.error().detail.find((dir / "0.index").string()) != std::string::npos);
}

TEST_CASE("sanity_check rejects positions that do not increase") {
  temp_dir dir;
  write_bytes(dir / "0.index", raw({{10, 4096}, {20, 4096}}));
  auto checked = open_index(dir / "0.index").sanity_check();
  REQUIRE_FALSE(checked);
  CHECK(checked.error().detail.find("entry 1 ") != std::string::npos);
}

TEST_CASE("a file whose size is not a multiple of 8 is corrupt and left untouched") {
  temp_dir dir;
  auto bytes = raw({{10, 4096}});
  bytes.push_back(7);
  write_bytes(dir / "0.index", bytes);
  auto index = offset_index::open(dir / "0.index", base, max_bytes);
  REQUIRE_FALSE(index);
  CHECK(index.error().code == index_errc::corrupt_index);
  CHECK(size_of(dir / "0.index") == 9);
}

TEST_CASE("max_bytes smaller than one entry is refused") {
  temp_dir dir;
  auto index = offset_index::open(dir / "0.index", base, 7);
  REQUIRE_FALSE(index);
  CHECK(index.error().code == index_errc::bad_max_size);
}

TEST_CASE("a moved index keeps its entries") {
  temp_dir dir;
  auto index = open_index(dir / "0.index");
  fill(index, 2);
  offset_index moved = std::move(index);
  CHECK(moved.entry_count() == 2);
  CHECK(moved.path() == dir / "0.index");
  REQUIRE(moved.close());
  CHECK(size_of(dir / "0.index") == 16);
}

}  // namespace
}  // namespace sluice::offset_index_tests
