#include "sample_log.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "protocol/record_batch_builder.h"

namespace sluice::test {

byte_buffer text_batch(int batch) {
  record_batch_builder builder;
  for (int i = 0; i < records_per_batch; ++i) {
    const std::string key = "key-" + std::to_string(batch) + "-" + std::to_string(i);
    const std::string value = "value-" + std::to_string(batch) + "-" + std::to_string(i);
    builder.add(1'700'000'000'000 + 100 * batch + i, as_bytes(key), as_bytes(value));
  }
  return builder.build();
}

log_config sample_config() {
  log_config cfg;
  cfg.index_interval_bytes = 100;
  return cfg;
}

sample_log::sample_log(int batches, log_config cfg) {
  fixture.open(cfg);
  std::uint64_t position = 0;
  for (int b = 0; b < batches; ++b) {
    byte_buffer batch = text_batch(b);
    const auto size = batch.size();
    REQUIRE(fixture.append(std::move(batch)).has_value());
    positions.push_back(position);
    sizes.push_back(size);
    position += size;
  }
  fixture.close();
}

std::filesystem::path sample_log::file(std::int64_t base, const std::string& ext) const {
  return dir() / (segment::file_stem(offset{base}) + "." + ext);
}

void flip_byte(const std::filesystem::path& file, std::uint64_t pos) {
  std::fstream s(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(s.good());
  s.seekg(static_cast<std::streamoff>(pos));
  char c = 0;
  s.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  s.seekp(static_cast<std::streamoff>(pos));
  s.write(&c, 1);
  REQUIRE(s.good());
}

void write_be32(const std::filesystem::path& file, std::uint64_t pos, std::uint32_t value) {
  std::fstream s(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(s.good());
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((value >> (24 - 8 * i)) & 0xff);
  s.seekp(static_cast<std::streamoff>(pos));
  s.write(bytes, 4);
  REQUIRE(s.good());
}

dir_snapshot snapshot_of(const std::filesystem::path& dir) {
  dir_snapshot snap;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    snap.files.push_back(
        {entry.path().filename().string(), {std::move(bytes), entry.last_write_time()}});
  }
  std::sort(snap.files.begin(), snap.files.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return snap;
}

}  // namespace sluice::test
