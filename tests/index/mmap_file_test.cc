#include "index/mmap_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "tests/index/test_support.h"

namespace sluice {
namespace {

using test::read_bytes;
using test::size_of;
using test::temp_dir;

TEST_CASE("open creates a file preallocated to its capacity") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  CHECK(file->capacity() == 4096);
  CHECK(file->file_size_at_open() == 0);
  CHECK(file->data() != nullptr);
  CHECK(size_of(dir / "a") == 4096);
}

TEST_CASE("writes through the mapping are in the file after sync") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  std::memcpy(file->data() + 100, "sluice", 6);
  REQUIRE(file->sync());
  const auto bytes = read_bytes(dir / "a");
  REQUIRE(bytes.size() == 4096);
  CHECK(std::memcmp(bytes.data() + 100, "sluice", 6) == 0);
}

TEST_CASE("reopening reports the old size and never shrinks a larger file") {
  temp_dir dir;
  REQUIRE(mmap_file::open(dir / "a", 8192));
  auto again = mmap_file::open(dir / "a", 4096);
  REQUIRE(again);
  CHECK(again->file_size_at_open() == 8192);
  CHECK(again->capacity() == 8192);
  CHECK(size_of(dir / "a") == 8192);
}

TEST_CASE("without its descriptor the mapping still works, and what needs one reopens the file") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  REQUIRE(file->release_descriptor());
  CHECK(file->fd() == -1);
  CHECK(file->is_open());
  std::memcpy(file->data(), "sluice", 6);
  REQUIRE(file->sync());  // msync needs only the mapping
  CHECK(file->fd() == -1);
  CHECK(std::memcmp(read_bytes(dir / "a").data(), "sluice", 6) == 0);

  REQUIRE(file->resize(8192));  // ftruncate: reopened by path
  CHECK(file->fd() >= 0);
  CHECK(size_of(dir / "a") == 8192);
  CHECK(std::memcmp(file->data(), "sluice", 6) == 0);
  REQUIRE(file->release_descriptor());
  REQUIRE(file->reserve(8192));  // fallocate
  CHECK(file->fd() >= 0);
  REQUIRE(file->close());
  CHECK_FALSE(file->is_open());
}

TEST_CASE("a released file that is gone cannot be reopened, and the error names it") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  REQUIRE(file->release_descriptor());
  std::filesystem::remove(dir / "a");
  auto r = file->resize(100);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == std::errc::no_such_file_or_directory);
  CHECK(r.error().message().find("reopen") != std::string::npos);
  CHECK(r.error().message().find((dir / "a").string()) != std::string::npos);
  CHECK(file->capacity() == 4096);  // nothing changed
}

// A sealed segment's index is already trimmed when it is closed (or deleted by retention), and
// close trims again: that must not need the released descriptor, nor the file by its path.
TEST_CASE("resize to the current size of a released file needs neither a descriptor nor the path") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  std::memcpy(file->data(), "sluice", 6);
  const std::byte* mapped = file->data();
  REQUIRE(file->release_descriptor());
  std::filesystem::remove(dir / "a");  // a reopen would fail: ENOENT
  REQUIRE(file->resize(4096));
  CHECK(file->fd() == -1);
  CHECK(file->data() == mapped);
  CHECK(std::memcmp(file->data(), "sluice", 6) == 0);
  REQUIRE(file->close());
}

TEST_CASE("resize shrinks and grows the file and keeps the bytes below the cut") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  std::memcpy(file->data(), "abcdef", 6);
  REQUIRE(file->resize(3));
  CHECK(file->capacity() == 3);
  CHECK(size_of(dir / "a") == 3);
  REQUIRE(file->resize(4096));
  CHECK(file->capacity() == 4096);
  CHECK(std::memcmp(file->data(), "abc\0\0\0", 6) == 0);
}

std::uint64_t allocated_bytes(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

TEST_CASE(
    "reserve allocates the pages below its end, so writing them cannot fault on a full disk") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 64 * 1024);
  REQUIRE(file);
  const auto sparse = allocated_bytes(dir / "a");
  CHECK(sparse < 64 * 1024);  // preallocated sparse
  REQUIRE(file->reserve(1));
  CHECK(allocated_bytes(dir / "a") >= sparse + 4096);
  const auto one_page = allocated_bytes(dir / "a");
  REQUIRE(file->reserve(4096));  // within the reserved page: nothing to do
  CHECK(allocated_bytes(dir / "a") == one_page);
  REQUIRE(file->reserve(1 << 30));  // clamped to the capacity
  CHECK(allocated_bytes(dir / "a") >= 64 * 1024);
  CHECK(size_of(dir / "a") == 64 * 1024);  // never extends the file
  // Shrinking frees pages; regrowing makes them sparse again and reserve allocates them anew.
  REQUIRE(file->resize(4096));
  REQUIRE(file->resize(64 * 1024));
  REQUIRE(file->reserve(64 * 1024));
  CHECK(allocated_bytes(dir / "a") >= 64 * 1024);
}

TEST_CASE("a file resized to zero has no mapping and still syncs and closes") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  REQUIRE(file->resize(0));
  CHECK(file->data() == nullptr);
  CHECK(file->capacity() == 0);
  CHECK(file->sync());
  CHECK(file->close());
  CHECK(size_of(dir / "a") == 0);
}

TEST_CASE("an open error carries errno and the path") {
  temp_dir dir;
  const auto path = dir / "missing" / "a";
  auto file = mmap_file::open(path, 4096);
  REQUIRE_FALSE(file);
  CHECK(file.error().code.value() == ENOENT);
  CHECK(file.error().detail.find(path.string()) != std::string::npos);
}

TEST_CASE("a moved file keeps the mapping and close is idempotent") {
  temp_dir dir;
  auto file = mmap_file::open(dir / "a", 4096);
  REQUIRE(file);
  mmap_file moved = std::move(*file);
  CHECK(moved.is_open());
  CHECK(moved.capacity() == 4096);
  CHECK_FALSE(file->is_open());
  CHECK(moved.close());
  CHECK(moved.close());
  CHECK_FALSE(moved.is_open());
}

}  // namespace
}  // namespace sluice
