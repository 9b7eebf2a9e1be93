#pragma once
// A file descriptor plus a MAP_SHARED read-write mapping of the whole file, preallocated to a
// capacity with ftruncate (sparse: unwritten pages cost no disk). Writes through data() reach
// the page cache at once and the disk on sync() (or whenever the kernel writes them back, in
// any order — callers must cope with a crash persisting any subset of dirty pages).
//
// Move-only; the destructor unmaps and closes without syncing or resizing, like a crash would
// leave the file. Not thread-safe: one owner (a shard) calls everything.
//
// The descriptor can be let go while the mapping stays (release_descriptor()): a partition
// keeps thousands of sealed segments, and their indexes are only read through the mapping. An
// operation that needs a descriptor again (resize, reserve, the sync of an empty file) reopens
// the file by its path first.

#include <cstddef>
#include <filesystem>
#include <span>

#include "protocol/result.h"

namespace sluice {

class mmap_file {
 public:
  // Opens `path` read-write, creating it (mode 0644) if missing, extends it to capacity_bytes
  // if it is smaller and maps it. An existing file larger than capacity_bytes is never shrunk
  // here (its whole length is mapped and capacity() reports it); use resize() to shrink.
  // Creating a file does not fsync its directory: that is the caller's (segment's) business.
  [[nodiscard]] static result<mmap_file> open(const std::filesystem::path& path,
                                              std::size_t capacity_bytes);

  mmap_file() = default;  // an empty, closed object
  mmap_file(mmap_file&& other) noexcept;
  mmap_file& operator=(mmap_file&& other) noexcept;
  mmap_file(const mmap_file&) = delete;
  mmap_file& operator=(const mmap_file&) = delete;
  ~mmap_file();

  // The mapping, capacity() bytes; nullptr when capacity() is 0 or the file is closed.
  [[nodiscard]] std::byte* data() { return data_; }
  [[nodiscard]] const std::byte* data() const { return data_; }
  // Current size of the file and of the mapping.
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  // The file's size before open() extended it (0 for a file open() created).
  [[nodiscard]] std::size_t file_size_at_open() const { return size_at_open_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] bool is_open() const { return open_; }
  // The descriptor, for an fdatasync started elsewhere (it covers writes made through data());
  // -1 after release_descriptor() until an operation reopens the file.
  [[nodiscard]] int fd() const { return fd_; }
  // Closes the descriptor and keeps the mapping (which holds the file open in the kernel).
  // Returns close's error, if any; the object stays usable either way.
  [[nodiscard]] result<void> release_descriptor();
  // Opens the file again by path if its descriptor was released, so fd() is valid.
  [[nodiscard]] result<void> reopen_descriptor() {
    auto fd = descriptor();
    if (!fd) return fd.error();
    return {};
  }

  // msync(MS_SYNC) of the whole mapping: on success every write made through data() so far is
  // on disk. With an empty mapping, fdatasync of the file (so a size change is durable).
  [[nodiscard]] result<void> sync();
  // Makes the file system allocate the pages holding bytes [0, end) (fallocate; end is clamped
  // to capacity()), so that writing through data() below `end` cannot fault. The file is
  // sparse: a page is otherwise allocated on its first write, and when the disk is full that
  // write kills the process with SIGBUS. Fails with ENOSPC instead. Cheap when nothing new is
  // needed (no system call).
  [[nodiscard]] result<void> reserve(std::size_t end);
  // pwrite of `bytes` at `pos` (< capacity(); the page cache is what the mapping shows, so
  // the bytes are visible through data() at once). Reopens a released descriptor.
  [[nodiscard]] result<void> write_at(std::size_t pos, std::span<const std::byte> bytes);
  // Sets the file size to new_capacity (ftruncate) and remaps it; used to trim and to regrow.
  // Pointers from data() are invalid afterwards. If ftruncate fails nothing changed; if the
  // remap fails the file has its new size but the object holds no mapping (capacity() == 0).
  [[nodiscard]] result<void> resize(std::size_t new_capacity);
  // Unmaps and closes the descriptor; a second close() is a no-op. Does not sync.
  [[nodiscard]] result<void> close();

 private:
  mmap_file(int fd, std::filesystem::path path, std::size_t size_at_open)
      : fd_(fd), open_(true), size_at_open_(size_at_open), path_(std::move(path)) {}

  [[nodiscard]] result<void> map(std::size_t bytes);
  // The descriptor, reopening the file by path (read-write, never creating) if it was released.
  [[nodiscard]] result<int> descriptor();
  void unmap() noexcept;

  int fd_ = -1;
  bool open_ = false;  // between open() and close(), with or without a descriptor
  std::byte* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_at_open_ = 0;
  std::size_t reserved_ = 0;  // bytes [0, reserved_) are allocated (a multiple of the page size)
  std::filesystem::path path_;
};

}  // namespace sluice
