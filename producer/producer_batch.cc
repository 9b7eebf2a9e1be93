#include "producer/producer_batch.h"

#include <utility>

#include "protocol/record_batch.h"
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
      options_(opts),
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
  records_.push_back(pending_record{std::move(cb), timestamp, size});
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

std::vector<batch_ptr> producer_batch::split() {
  SLUICE_ASSERT(bytes_ != nullptr && state_ != state::done && records_.size() >= 2);
  // The batch's own bytes, decoded: they hold the records as they were sent. estimated_bytes_
  // bounds their uncompressed size.
  auto decoded = decode_records(record_batch_view::parse(*bytes_).value(), estimated_bytes_);
  SLUICE_ASSERT(decoded.has_value() && decoded->records().size() == records_.size());
  const auto points = split_points();
  std::vector<batch_ptr> parts;
  std::int32_t sequences_used = 0;
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    auto part = std::make_shared<producer_batch>(tp_, id_, created_, options_);
    move_records_to(*part, *decoded, points[i], points[i + 1]);
    std::optional<producer_stamp> stamp = stamp_;
    if (stamp) stamp->base_sequence = add_to_sequence(stamp->base_sequence, sequences_used);
    sequences_used += part->record_count();
    part->seal(stamp);
    part->window_index = window_index;
    parts.push_back(std::move(part));
  }
  records_.clear();
  memory_bytes_ = 0;
  state_ = state::done;
  return parts;
}

std::vector<std::size_t> producer_batch::split_points() const {
  const std::size_t limit = estimated_bytes_ / 2;
  std::vector<std::size_t> points{0};
  std::size_t part_bytes = batch_header_size;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (i > points.back() && part_bytes + records_[i].size > limit) {
      points.push_back(i);
      part_bytes = batch_header_size;
    }
    part_bytes += records_[i].size;
  }
  points.push_back(records_.size());
  return points;
}

void producer_batch::move_records_to(producer_batch& part, const decoded_records& decoded,
                                     std::size_t first, std::size_t last) {
  for (std::size_t i = first; i < last; ++i) {
    const record_view& r = decoded.records()[i];
    std::vector<record_header> headers;
    headers.reserve(r.headers.size());
    for (const auto& h : r.headers) {
      std::optional<byte_buffer> value;
      if (h.value) value.emplace(h.value->begin(), h.value->end());
      headers.push_back(record_header{std::string(h.key), std::move(value)});
    }
    auto& pending = records_[i];
    part.builder_->add(pending.timestamp, r.key, r.value, headers);
    ++part.record_count_;
    part.estimated_bytes_ += pending.size;
    part.memory_bytes_ += pending.size;
    part.records_.push_back(std::move(pending));
  }
}

void producer_batch::complete(std::int64_t base_offset) {
  SLUICE_ASSERT(state_ != state::done);
  state_ = state::done;
  auto records = std::move(records_);
  result<record_metadata> md = record_metadata{tp_.topic, tp_.partition, -1, -1};
  for (std::size_t i = 0; i < records.size(); ++i) {
    md->offset = base_offset < 0 ? -1 : base_offset + static_cast<std::int64_t>(i);
    md->timestamp = records[i].timestamp;
    if (records[i].callback) records[i].callback(md);
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
