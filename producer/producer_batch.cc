#include "producer/producer_batch.h"

#include <utility>

#include "protocol/record_batch_format.h"

namespace sluice::producer_internal {
namespace {

// Varint framing of one record: length, attributes, timestamp and offset deltas, key and
// value lengths, header count, each at its largest.
constexpr std::size_t record_overhead = 5 + 1 + 10 + 5 + 5 + 5 + 5;
constexpr std::size_t header_overhead = 5 + 5;

std::optional<byte_span> bytes_of(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return as_bytes(*s);
}

}  // namespace

std::size_t record_size_upper_bound(const producer_record& r) {
  std::size_t n = record_overhead + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (const auto& h : r.headers) {
    n += header_overhead + h.key.size() + (h.value ? h.value->size() : 0);
  }
  return n;
}

producer_batch::producer_batch(topic_partition tp, std::uint64_t id, clock::time_point created,
                               const record_batch_builder::options& opts)
    : tp_(std::move(tp)),
      id_(id),
      created_(created),
      builder_(std::make_unique<record_batch_builder>(opts)),
      estimated_bytes_(batch_header_size) {}

void producer_batch::add(const producer_record& r, std::int64_t timestamp, std::size_t size,
                         producer::callback cb) {
  SLUICE_ASSERT(state_ == state::open);
  if (r.headers.empty()) {
    builder_->add(timestamp, bytes_of(r.key), bytes_of(r.value));
  } else {
    std::vector<record_header> headers;
    headers.reserve(r.headers.size());
    for (const auto& h : r.headers) {
      std::optional<byte_buffer> value;
      if (h.value) value.emplace(as_bytes(*h.value).begin(), as_bytes(*h.value).end());
      headers.push_back(record_header{h.key, std::move(value)});
    }
    builder_->add(timestamp, bytes_of(r.key), bytes_of(r.value), headers);
  }
  records_.push_back(pending_record{std::move(cb), timestamp});
  ++record_count_;
  estimated_bytes_ += size;
  memory_bytes_ += size;
}

void producer_batch::seal(std::optional<producer_stamp> stamp) {
  SLUICE_ASSERT(state_ == state::open && !records_.empty());
  auto built = builder_->build();
  builder_.reset();
  if (stamp) write_producer_stamp(built, *stamp);
  stamp_ = stamp;
  bytes_ = std::make_shared<const byte_buffer>(std::move(built));
  state_ = state::queued;
}

void producer_batch::restamp(const producer_stamp& stamp) {
  SLUICE_ASSERT(bytes_ != nullptr);
  byte_buffer copy(*bytes_);
  write_producer_stamp(copy, stamp);
  stamp_ = stamp;
  bytes_ = std::make_shared<const byte_buffer>(std::move(copy));
}

void producer_batch::complete(std::int64_t base_offset) {
  SLUICE_ASSERT(state_ != state::done);
  state_ = state::done;
  auto records = std::move(records_);
  for (std::size_t i = 0; i < records.size(); ++i) {
    record_metadata md{tp_.topic, tp_.partition,
                       base_offset < 0 ? -1 : base_offset + static_cast<std::int64_t>(i),
                       records[i].timestamp};
    if (records[i].callback) records[i].callback(std::move(md));
  }
}

void producer_batch::fail(const error& e) {
  SLUICE_ASSERT(state_ != state::done);
  state_ = state::done;
  auto records = std::move(records_);
  for (auto& r : records) {
    if (r.callback) r.callback(e);
  }
}

}  // namespace sluice::producer_internal
