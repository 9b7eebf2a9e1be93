// Writes the seed corpora of the fuzz targets: valid inputs the fuzzers mutate from, so they
// start deep inside the parsers instead of at the first length check.
//   sluice-fuzz-seeds DIR     writes DIR/<target>/* for every target
// The committed corpora under tests/fuzz/corpus/ were made with it.

#include <fmt/format.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/request_builder.h"
#include "segment/io/backend.h"
#include "tests/fuzz/closed_log_template.h"

namespace {

using namespace sluice;
namespace fs = std::filesystem;

byte_span as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

byte_buffer make_batch(compression codec, int records, bool with_headers, bool idempotent) {
  record_batch_builder_options o;
  o.codec = codec;
  if (idempotent) {
    o.producer_id = 1000;
    o.producer_epoch = 0;
    o.base_sequence = 0;
  }
  record_batch_builder b(o);
  const std::string trace = "abc";
  const std::vector<record_header> headers{
      {"trace", byte_buffer(as_bytes(trace).begin(), as_bytes(trace).end())},
      {"empty", std::nullopt}};
  for (int i = 0; i < records; ++i) {
    const std::string key = fmt::format("key-{}", i);
    const std::string value =
        fmt::format("value {} {}", i, std::string(static_cast<std::size_t>(i % 7), 'v'));
    b.add(
        1'700'000'000'000 + i, i % 3 == 0 ? std::nullopt : std::optional(as_bytes(key)),
        as_bytes(value),
        with_headers ? std::span<const record_header>(headers) : std::span<const record_header>());
  }
  return b.build(offset{42});
}

byte_buffer produce_frame(const byte_buffer& batch) {
  request_builder b;
  auto range = b.add_payload(std::make_shared<const byte_buffer>(batch));
  auto& fbb = b.fbb();
  std::vector<flatbuffers::Offset<wire::ProducePartition>> partitions{
      wire::CreateProducePartition(fbb, 0, &range)};
  std::vector<flatbuffers::Offset<wire::ProduceTopic>> topics{
      wire::CreateProduceTopicDirect(fbb, "events", &partitions)};
  b.set_body(wire::CreateProduceRequestDirect(fbb, 1, 30000, &topics));
  b.finish(7, 0, "seed");
  std::vector<boost::asio::const_buffer> parts;
  b.append_buffers(parts);
  byte_buffer frame;
  for (const auto& p : parts) {
    const auto* d = static_cast<const std::byte*>(p.data());
    frame.insert(frame.end(), d, d + p.size());
  }
  return frame;
}

byte_buffer fetch_response_frame(const std::vector<byte_buffer>& batches) {
  byte_buffer payload;
  for (const auto& b : batches) payload.insert(payload.end(), b.begin(), b.end());
  flatbuffers::FlatBufferBuilder fbb;
  const wire::PayloadRange range(0, static_cast<std::uint32_t>(payload.size()));
  std::vector<flatbuffers::Offset<wire::FetchPartitionResult>> partitions{
      wire::CreateFetchPartitionResult(fbb, 0, wire::ErrorCode::none, 0, 100, 0, &range)};
  std::vector<flatbuffers::Offset<wire::FetchTopicResult>> topics{
      wire::CreateFetchTopicResultDirect(fbb, "events", &partitions)};
  auto body = wire::CreateFetchResponseDirect(fbb, &topics);
  wire::ResponseBuilder rb(fbb);
  rb.add_request_id(7);
  rb.add_body_type(wire::ResponseBody::FetchResponse);
  rb.add_body(body.Union());
  fbb.Finish(rb.Finish());
  const auto prefix = encode_frame_prefix(fbb.GetSize(), payload.size());
  // Reserved up front: growing by insert() trips GCC 12's false -Warray-bounds at -O3.
  byte_buffer frame;
  frame.reserve(prefix.size() + fbb.GetSize() + payload.size());
  frame.insert(frame.end(), prefix.begin(), prefix.end());
  const auto* m = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  frame.insert(frame.end(), m, m + fbb.GetSize());
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

// The batches as a segment from offset 0 would hold them: base offsets stamped, back to back.
byte_buffer segment_file(const std::vector<byte_buffer>& batches) {
  byte_buffer out;
  std::int64_t next = 0;
  for (byte_buffer b : batches) {
    set_base_offset(b, offset{next});
    const auto view = record_batch_view::parse(b).value();
    next = view.header().next_offset().value;
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

void write_file(const fs::path& path, const byte_buffer& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

byte_buffer read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  const auto* b = reinterpret_cast<const std::byte*>(bytes.data());
  return {b, b + bytes.size()};
}

// fuzz_index_loading's seeds: each index file of the closed log template as it is, behind the
// byte that selects it.
void write_index_seeds(const fs::path& dir) {
  const fs::path log_dir = fs::temp_directory_path() / "sluice-fuzz-seeds-log";
  fs::remove_all(log_dir);
  boost::asio::io_context ctx;
  auto io = io::make_backend(ctx, io::backend_kind::pwrite);
  fuzz::write_closed_log(log_dir, *io, ctx);
  const auto files = fuzz::index_files(log_dir);
  for (std::size_t i = 0; i < files.size(); ++i) {
    byte_buffer seed{static_cast<std::byte>(i)};
    const byte_buffer content = read_file(files[i]);
    seed.insert(seed.end(), content.begin(), content.end());
    write_file(dir / files[i].filename(), seed);
  }
  fs::remove_all(log_dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: sluice-fuzz-seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir / "record_batch");
  fs::create_directories(dir / "frame");
  fs::create_directories(dir / "segment_recovery");
  fs::create_directories(dir / "index_loading");
  const std::vector<byte_buffer> batches{make_batch(compression::none, 1, false, false),
                                         make_batch(compression::none, 5, true, true),
                                         make_batch(compression::zstd, 5, true, false),
                                         make_batch(compression::zstd, 20, false, true)};
  for (std::size_t i = 0; i < batches.size(); ++i) {
    write_file(dir / "record_batch" / fmt::format("batch-{}", i), batches[i]);
    write_file(dir / "frame" / fmt::format("produce-{}", i), produce_frame(batches[i]));
  }
  byte_buffer two;
  two.insert(two.end(), batches[1].begin(), batches[1].end());
  two.insert(two.end(), batches[2].begin(), batches[2].end());
  write_file(dir / "record_batch" / "two-batches", two);
  write_file(dir / "frame" / "fetch-response", fetch_response_frame(batches));
  const byte_buffer segment = segment_file(batches);
  write_file(dir / "segment_recovery" / "segment", segment);
  write_file(dir / "segment_recovery" / "torn-segment",
             byte_buffer(segment.begin(), segment.begin() + 300));  // inside the second batch
  write_index_seeds(dir / "index_loading");
  fmt::print("seeds written under {}\n", dir.string());
  return 0;
}
