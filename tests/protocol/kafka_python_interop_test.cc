// Interop with kafka-python 2.0.2, an independent RecordBatch v2 codec: its batches must pass our
// parse + validate + decode with the same records, and ours must pass its CRC check and decode.
// Needs /usr/bin/python3 with python3-kafka and python3-zstandard (scripts/install-deps.sh
// installs both); without them these tests fail rather than skip.

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "tests/protocol/batch_test_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct command_result {
  int exit_status = -1;
  std::string output;  // stdout and stderr
};

command_result run(const std::string& command) {
  command_result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "cannot run " << command);
  char chunk[4096];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;)
    r.output.append(chunk, n);
  const int status = ::pclose(pipe);
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs the interop script; fails the test with the script's own message when it fails.
std::string interop(const std::string& verb, const fs::path& file) {
  const std::string script = SLUICE_SOURCE_DIR "/tests/protocol/kafka_python_interop.py";
  const command_result r =
      run(fmt::format("{} {} {} {}", SLUICE_PYTHON, script, verb, file.string()));
  REQUIRE_MESSAGE(r.exit_status == 0, "kafka_python_interop.py " << verb << " failed:\n"
                                                                 << r.output);
  return r.output;
}

// A temporary file removed at scope exit.
struct temp_file {
  fs::path path = fs::temp_directory_path() /
                  fmt::format("sluice-protocol-interop-{}-{}.bin", ::getpid(), counter++);
  ~temp_file() { fs::remove(path); }
  static inline int counter = 0;
};

std::string hexed(std::optional<byte_span> bytes) {
  if (!bytes) return "null";
  std::string out = "x";
  for (std::byte b : *bytes) out += fmt::format("{:02x}", std::to_integer<unsigned>(b));
  return out;
}

std::string dump_batch(const batch_header& h) {
  return fmt::format("batch base={} count={} codec={} pid={} epoch={} seq={}\n", h.base_offset,
                     h.records_count, static_cast<int>(h.codec()), h.producer_id, h.producer_epoch,
                     h.base_sequence);
}

std::string dump_record(const record_view& r) {
  std::vector<std::string> headers;
  for (const header_view& h : r.headers) {
    headers.push_back(hexed(as_bytes(h.key)) + ":" + hexed(h.value));
  }
  return fmt::format("{} {} {} {} [{}]\n", r.offset, r.timestamp, hexed(r.key), hexed(r.value),
                     fmt::join(headers, ","));
}

// What our parse + validate + decode sees in a file of back-to-back batches, in the dump format.
std::string dump_with_sluice(const byte_buffer& file) {
  std::string out;
  batch_reader reader(file);
  for (;;) {
    auto next = reader.next();
    REQUIRE_MESSAGE(next, next.error().message());
    if (!next.value()) break;
    const record_batch_view& batch = *next.value();
    const auto valid = batch.validate();
    REQUIRE_MESSAGE(valid, valid.error().message());
    auto decoded = decode_records(batch);
    REQUIRE_MESSAGE(decoded, decoded.error().message());
    out += dump_batch(batch.header());
    for (const record_view& r : decoded.value().records()) out += dump_record(r);
  }
  CHECK(reader.remaining_bytes() == 0);
  return out;
}

byte_buffer read_file(const fs::path& path) {
  byte_buffer bytes(fs::file_size(path));
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(in.good());
  return bytes;
}

void write_file(const fs::path& path, const byte_buffer& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Batches built by us, and the dump of what we put in them (not of what we decode).
struct built_file {
  byte_buffer bytes;
  std::string expected;
};

// Record i of a test batch: no key for record 0, an empty value for every third, a null value
// for every fourth, one timestamp out of order, two headers (one null).
record_view test_record(offset base, int i, const std::string& key, const std::string& value,
                        const std::string& number) {
  const std::int64_t ts = 1'700'000'000'000 + 10 * i - (i == 1 ? 5000 : 0);
  return record_view{base + i,
                     ts,
                     i == 0 ? std::nullopt : std::optional(as_bytes(key)),
                     i % 4 == 3 ? std::nullopt : std::optional(as_bytes(value)),
                     {{"n", as_bytes(number)}, {"null", std::nullopt}}};
}

void add_batch(built_file& f, record_batch_builder::options opts, offset base, int records) {
  record_batch_builder builder(opts);
  std::string expected;
  for (int i = 0; i < records; ++i) {
    const std::string key = fmt::format("key-{}", i);
    const std::string value = i % 3 == 2 ? "" : fmt::format("value {} {}", i, std::string(40, 'v'));
    const std::string number = std::to_string(i);
    const record_view r = test_record(base, i, key, value, number);
    const std::vector<record_header> headers = {{"n", test::to_buffer(number)},
                                                {"null", std::nullopt}};
    builder.add(r.timestamp, r.key, r.value, headers);
    expected += dump_record(r);
  }
  const byte_buffer batch = builder.build(base);
  f.expected += dump_batch(record_batch_view::parse(batch).value().header()) + expected;
  f.bytes.insert(f.bytes.end(), batch.begin(), batch.end());
}

TEST_CASE("batches built by kafka-python pass our validation and decode to the same records") {
  const temp_file file;
  const std::string python_dump = interop("write", file.path);
  const std::string our_dump = dump_with_sluice(read_file(file.path));
  CHECK(our_dump.find("codec=4") != std::string::npos);  // the zstd batch really is zstd
  CHECK(our_dump == python_dump);
}

TEST_CASE("batches built by us pass kafka-python's CRC check and decode to the same records") {
  built_file f;
  add_batch(f, {}, offset{0}, 5);
  add_batch(f, {.codec = compression::zstd}, offset{5}, 30);
  add_batch(f, {.producer_id = 77, .producer_epoch = 2, .base_sequence = 5}, offset{35}, 2);
  const temp_file file;
  write_file(file.path, f.bytes);
  CHECK(interop("read", file.path) == f.expected);
}

}  // namespace
}  // namespace sluice
