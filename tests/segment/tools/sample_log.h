#pragma once
// Partition logs for the sluice-log tests: written through partition_log (log_fixture), then
// closed, so the tool sees exactly what a broker leaves on disk.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../log_fixture.h"

namespace sluice::test {

inline constexpr int records_per_batch = 10;

// Batch number `batch` of a sample log: records_per_batch records with key "key-<batch>-<i>",
// value "value-<batch>-<i>" and timestamps from 1'700'000'000'000 + 100 * batch.
byte_buffer text_batch(int batch);

// A log config with small index intervals, so a few batches already get index entries.
log_config sample_config();

// A closed log of `batches` text batches (offsets 0 to batches * records_per_batch - 1).
struct sample_log {
  explicit sample_log(int batches, log_config cfg = sample_config());

  [[nodiscard]] std::filesystem::path dir() const { return fixture.log_dir(); }
  // <dir>/<20-digit base>.<ext>
  [[nodiscard]] std::filesystem::path file(std::int64_t base, const std::string& ext) const;

  log_fixture fixture;
  // Where each batch starts in its segment's .log; when there is one segment, its positions.
  std::vector<std::uint64_t> positions;
  std::vector<std::uint64_t> sizes;
};

// Test helpers that damage files the way disks and crashes do.
void flip_byte(const std::filesystem::path& file, std::uint64_t pos);
void write_be32(const std::filesystem::path& file, std::uint64_t pos, std::uint32_t value);

// Every file of `dir` with its bytes and modification time, to see that nothing changed.
struct dir_snapshot {
  struct file_state {
    std::string bytes;
    std::filesystem::file_time_type mtime;
    bool operator==(const file_state&) const = default;
  };
  std::vector<std::pair<std::string, file_state>> files;  // sorted by name
  bool operator==(const dir_snapshot&) const = default;
};
dir_snapshot snapshot_of(const std::filesystem::path& dir);

}  // namespace sluice::test
