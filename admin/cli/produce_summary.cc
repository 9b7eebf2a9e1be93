#include "admin/cli/produce_summary.h"

#include <fmt/format.h>

#include <algorithm>

#include "admin/cli/topic_format.h"

namespace sluice::cli {

std::string count_of_records(std::uint64_t n) {
  return fmt::format("{} record{}", n, n == 1 ? "" : "s");
}

std::uint64_t record_bytes(const producer_record& r) {
  std::uint64_t n = r.key ? r.key->size() : 0;
  n += r.value ? r.value->size() : 0;
  for (const auto& h : r.headers) n += h.key.size() + (h.value ? h.value->size() : 0);
  return n;
}

void produce_summary::on_stored(const record_metadata& md, std::uint64_t bytes) {
  ++stored_;
  bytes_ += bytes;
  auto& p = partitions_[md.partition];
  ++p.records;
  if (md.offset < 0) return;  // acks=0: the broker told us nothing
  p.first_offset = p.first_offset < 0 ? md.offset : std::min(p.first_offset, md.offset);
  p.last_offset = std::max(p.last_offset, md.offset);
}

void produce_summary::on_failed(const error& e) {
  ++failed_;
  if (!first_error_) first_error_ = e;
  ++failures_by_kind_[e.code.message()];
}

std::string produce_summary::format(std::string_view topic, double seconds) const {
  std::string out = fmt::format("produced {} ({}) to {} in {:.2f} s\n", count_of_records(stored_),
                                format_bytes(bytes_), topic, seconds);
  for (const auto& [partition, p] : partitions_) {
    const std::string offsets = p.first_offset < 0
                                    ? "offsets unknown (acks=0)"
                                    : fmt::format("offsets {}..{}", p.first_offset, p.last_offset);
    out += fmt::format("  partition {}: {}, {}\n", partition, count_of_records(p.records), offsets);
  }
  return out;
}

std::optional<std::string> produce_summary::failure_line() const {
  if (failed_ == 0) return std::nullopt;
  std::string line = fmt::format("{} of {} records failed: {}", failed_, failed_ + stored_,
                                 first_error_->message());
  if (failures_by_kind_.size() > 1) {
    line += fmt::format(" (and {} other kinds of error)", failures_by_kind_.size() - 1);
  }
  return line;
}

}  // namespace sluice::cli
