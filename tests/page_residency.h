#pragma once
// How much of a file the page cache holds (mincore over a read-only mapping): what tests of
// the page cache drop-behind look at.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace sluice::test {

// The share (0..1) of the pages of [from, to) of `file` that are in the page cache.
inline double resident_share(const std::filesystem::path& file, std::uint64_t from,
                             std::uint64_t to) {
  from = from / 4096 * 4096;  // mmap maps from a page boundary
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const auto length = static_cast<std::size_t>(to - from);
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(from));
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  std::vector<unsigned char> pages((length + 4095) / 4096);
  REQUIRE(::mincore(map, length, pages.data()) == 0);
  ::munmap(map, length);
  const auto resident =
      std::count_if(pages.begin(), pages.end(), [](unsigned char p) { return (p & 1U) != 0; });
  return static_cast<double>(resident) / static_cast<double>(pages.size());
}

}  // namespace sluice::test
