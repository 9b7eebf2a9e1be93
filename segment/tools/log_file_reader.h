#pragma once
// Read-only access to one segment's .log file for the tool: opened O_RDONLY, read through a
// window so that walking many small batches costs few system calls. Never writes.

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "protocol/bytes.h"
#include "protocol/result.h"

namespace sluice::log_tool {

class log_file_reader {
 public:
  // Opens `path` read-only and notes its size (the file is not expected to change meanwhile).
  [[nodiscard]] static result<log_file_reader> open(const std::filesystem::path& path);

  log_file_reader(log_file_reader&& other) noexcept;
  log_file_reader& operator=(log_file_reader&&) = delete;
  log_file_reader(const log_file_reader&) = delete;
  log_file_reader& operator=(const log_file_reader&) = delete;
  ~log_file_reader();

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // The descriptor, for reads that bypass the window (read-only; the reader owns it).
  [[nodiscard]] int fd() const { return fd_; }

  // The bytes [pos, pos + len), fewer when the file ends first. The view is valid until the
  // next call. Errors keep errno and name the file and position.
  [[nodiscard]] result<byte_span> read(std::uint64_t pos, std::size_t len);

 private:
  log_file_reader(int fd, std::filesystem::path path, std::uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}

  [[nodiscard]] result<void> fill(std::uint64_t pos, std::size_t len);

  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
  byte_buffer window_;  // the file's bytes [window_start_, window_start_ + window_.size())
  std::uint64_t window_start_ = 0;
};

}  // namespace sluice::log_tool
