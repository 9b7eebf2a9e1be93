#include "segment/tools/log_verify.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "protocol/record_batch.h"
#include "segment/checkpoint.h"
#include "segment/tools/batch_scanner.h"
#include "segment/tools/index_check.h"
#include "segment/tools/index_reader.h"
#include "segment/tools/log_file_reader.h"
#include "segment/tools/unrecovered_tail.h"

namespace sluice::log_tool {
namespace fs = std::filesystem;

namespace {

using check = std::optional<verify_finding>;

// The offsets a position may stand for: those of the batch starting there, or, at the end of
// a segment, only its next offset.
struct offset_span {
  offset first;
  offset last;
};

// A data problem in a file becomes a finding; an errno error stays an error.
result<check> finding_or_error(const fs::path& file, const error& e) {
  if (is_io_error(e)) return e;
  return check{verify_finding{file, std::nullopt, std::nullopt, e.message()}};
}

class partition_verifier {
 public:
  partition_verifier(const partition_target& target, verify_totals& totals)
      : target_(target), totals_(totals) {}

  [[nodiscard]] result<check> run();

 private:
  [[nodiscard]] result<check> load_checkpoint();
  [[nodiscard]] check check_epochs() const;
  [[nodiscard]] result<check> verify_segment(std::size_t index);
  // `end` ends up where the batches end (zeros may follow them: segment/zero_tail.h). `cut`:
  // bytes past `end` that are not damage, which recovery will cut (unrecovered_tail.h).
  [[nodiscard]] result<check> scan_batches(std::size_t index, log_file_reader& file,
                                           index_checker& indexes, file_pos& end, bool& cut);
  // A problem that stops the walk over segment `index` at `position`: a finding, or a note
  // that recovery will cut there (then `cut` is set and the walk goes on with the next one).
  [[nodiscard]] check stop_at(std::size_t index, file_pos position, std::string what, bool& cut);
  [[nodiscard]] check check_batch(const segment_files& files, const batch_at& batch) const;
  void count_batch(const batch_at& batch);
  void note_recovery_position(const segment_files& files, file_pos position, offset_span span);
  [[nodiscard]] check check_checkpoint() const;
  [[nodiscard]] check check_recovery_position() const;
  [[nodiscard]] check checkpoint_finding(offset at, std::string what) const;

  const partition_target& target_;
  verify_totals& totals_;
  std::optional<partition_checkpoint> checkpoint_;
  std::optional<recovery_horizon> horizon_;
  std::optional<offset_span> recovery_span_;  // what the checkpoint's recovery position holds
  offset next_;                               // where the next batch must start
};

result<check> partition_verifier::run() {
  totals_.first_offset = next_ = target_.segments.front().base;
  if (!target_.single_file) {
    auto c = load_checkpoint();
    if (!c || *c) return c;
  }
  horizon_.emplace(target_, checkpoint_);  // a single file has none: all of it is judged
  for (std::size_t i = 0; i < target_.segments.size(); ++i) {
    auto c = verify_segment(i);
    if (!c || *c) return c;
  }
  totals_.end_offset = next_;
  if (!checkpoint_) return check{};
  return check_checkpoint();
}

result<check> partition_verifier::load_checkpoint() {
  auto cp = read_checkpoint(target_.dir);
  if (!cp) return finding_or_error(target_.dir / checkpoint_file_name, cp.error());
  checkpoint_ = std::move(*cp);
  totals_.checkpoint_present = checkpoint_.has_value();
  if (!checkpoint_) return check{};
  totals_.clean = checkpoint_->clean;
  if (checkpoint_->truncate_to.value >= 0) totals_.pending_truncation = checkpoint_->truncate_to;
  return check_epochs();
}

check partition_verifier::check_epochs() const {
  const auto& e = checkpoint_->leader_epochs;
  for (std::size_t i = 1; i < e.size(); ++i) {
    if (e[i].epoch > e[i - 1].epoch && e[i].start_offset >= e[i - 1].start_offset) continue;
    return checkpoint_finding(
        e[i].start_offset,
        fmt::format("leader epoch {} from offset {} does not follow epoch {} from offset {}",
                    e[i].epoch, e[i].start_offset, e[i - 1].epoch, e[i - 1].start_offset));
  }
  return std::nullopt;
}

result<check> partition_verifier::verify_segment(std::size_t index) {
  const segment_files& files = target_.segments[index];
  if (files.base != next_) {
    return check{verify_finding{
        files.log, std::min(files.base, next_), file_pos{0},
        fmt::format("the segment starts at offset {} but the one before it ends at offset {}",
                    files.base, next_)}};
  }
  auto file = log_file_reader::open(files.log);
  if (!file) return file.error();
  auto offsets = read_offset_index(files.index, files.base);
  if (!offsets) return finding_or_error(files.index, offsets.error());
  auto times = read_time_index(files.timeindex, files.base);
  if (!times) return finding_or_error(files.timeindex, times.error());
  index_checker indexes(files, *offsets, *times);
  if (auto f = indexes.check_order()) return check{std::move(f)};
  file_pos end{0};  // where the batches end: zeros a crash left ahead of appends may follow
  bool cut = false;
  if (auto c = scan_batches(index, *file, indexes, end, cut); !c || *c) return c;
  note_recovery_position(files, end, {next_, next_});
  ++totals_.segments;
  totals_.bytes += end.value;
  totals_.index_entries += offsets->entries.size();
  totals_.timeindex_entries += times->entries.size();
  // Recovery rebuilds the indexes of what it re-scans: entries past a cut are its to drop.
  if (cut) return check{};
  return check{indexes.at_end(end, next_)};
}

result<check> partition_verifier::scan_batches(std::size_t index, log_file_reader& file,
                                               index_checker& indexes, file_pos& end, bool& cut) {
  const segment_files& files = target_.segments[index];
  batch_scanner scanner(file);
  for (;;) {
    end = scanner.position();
    auto batch = scanner.next();
    if (!batch && is_io_error(batch.error())) return batch.error();
    if (!batch) {
      return stop_at(index, scanner.position(), batch.error().message(), cut);
    }
    if (!*batch) return check{};
    const batch_header& h = (*batch)->view.header();
    if (auto f = check_batch(files, **batch)) {
      return f->position ? stop_at(index, *f->position, std::move(f->what), cut) : f;
    }
    if (auto f = indexes.on_batch((*batch)->position, h)) return check{std::move(f)};
    note_recovery_position(files, (*batch)->position, {h.base_offset, h.last_offset()});
    count_batch(**batch);
    next_ = h.next_offset();
  }
}

check partition_verifier::stop_at(std::size_t index, file_pos position, std::string what,
                                  bool& cut) {
  const segment_files& files = target_.segments[index];
  const walk_end kind = horizon_->classify(index, position, next_);
  if (kind == walk_end::damage) {
    // A crash can cut short only the log's last segment; earlier ones are damaged.
    constexpr std::string_view torn = "torn tail: ";
    if (index + 1 < target_.segments.size() && what.starts_with(torn)) {
      what = "cut short before the last segment (damage, not a crash's torn tail): " +
             what.substr(torn.size());
    }
    return verify_finding{files.log, next_, position, std::move(what)};
  }
  totals_.cut_by_recovery.push_back(describe_walk_end(kind, files.log, position, next_, what));
  cut = true;
  return std::nullopt;
}

check partition_verifier::check_batch(const segment_files& files, const batch_at& batch) const {
  const batch_header& h = batch.view.header();
  auto finding = [&](std::string what) {
    return check{verify_finding{files.log, next_, batch.position, std::move(what)}};
  };
  if (!batch.view.crc_matches()) {
    return finding(fmt::format("CRC mismatch: stored {:#010x}, computed {:#010x}", h.crc,
                               batch.view.computed_crc()));
  }
  if (auto r = batch.view.validate(); !r) return finding("invalid batch: " + r.error().message());
  if (h.base_offset != next_) {
    return finding(
        fmt::format("the batch starts at offset {} where {} was expected", h.base_offset, next_));
  }
  return std::nullopt;
}

void partition_verifier::count_batch(const batch_at& batch) {
  ++totals_.batches;
  totals_.records += static_cast<std::uint64_t>(batch.view.header().records_count);
}

void partition_verifier::note_recovery_position(const segment_files& files, file_pos position,
                                                offset_span span) {
  if (checkpoint_ && files.base == checkpoint_->recovery_segment &&
      position == checkpoint_->recovery_position) {
    recovery_span_ = span;
  }
}

check partition_verifier::check_checkpoint() const {
  const partition_checkpoint& cp = *checkpoint_;
  const offset first = target_.segments.front().base;
  if (cp.log_start_offset < first) {
    return checkpoint_finding(
        cp.log_start_offset,
        fmt::format("log start offset {} is below the first segment's base offset {}: "
                    "segments are missing",
                    cp.log_start_offset, first));
  }
  if (cp.log_start_offset > next_) {
    return checkpoint_finding(cp.log_start_offset,
                              fmt::format("log start offset {} is past the log end offset {}",
                                          cp.log_start_offset, next_));
  }
  if (cp.recovery_point > next_) {
    return checkpoint_finding(
        next_, fmt::format("recovery point {} is past the log end offset {}: data the "
                           "checkpoint says was made durable is missing",
                           cp.recovery_point, next_));
  }
  return check_recovery_position();
}

check partition_verifier::check_recovery_position() const {
  const partition_checkpoint& cp = *checkpoint_;
  const bool segment_present =
      std::any_of(target_.segments.begin(), target_.segments.end(),
                  [&](const segment_files& s) { return s.base == cp.recovery_segment; });
  // Retention may have deleted the segment whose end was the recovery point.
  if (!segment_present && cp.recovery_point <= target_.segments.front().base) return std::nullopt;
  if (!segment_present) {
    return checkpoint_finding(
        cp.recovery_point, fmt::format("recovery segment {} does not exist", cp.recovery_segment));
  }
  if (!recovery_span_) {
    return checkpoint_finding(
        cp.recovery_point, fmt::format("recovery position {} is not a batch boundary of segment {}",
                                       cp.recovery_position, cp.recovery_segment));
  }
  if (cp.recovery_point < recovery_span_->first || cp.recovery_point > recovery_span_->last) {
    return checkpoint_finding(
        cp.recovery_point,
        fmt::format("recovery position {} of segment {} holds offsets {} to {}, not the "
                    "recovery point {}",
                    cp.recovery_position, cp.recovery_segment, recovery_span_->first,
                    recovery_span_->last, cp.recovery_point));
  }
  return std::nullopt;
}

check partition_verifier::checkpoint_finding(offset at, std::string what) const {
  return verify_finding{target_.dir / checkpoint_file_name, at, std::nullopt, std::move(what)};
}

// "1 batch", "2 batches".
std::string counted(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string offsets_text(const verify_totals& t) {
  if (t.end_offset <= t.first_offset)
    return fmt::format("no records (next offset {})", t.end_offset);
  return fmt::format("offsets {} to {}", t.first_offset, t.end_offset.value - 1);
}

std::string checkpoint_text(const verify_totals& t) {
  if (!t.checkpoint_present) return "no checkpoint";
  std::string out = t.clean ? "checkpoint clean" : "checkpoint not clean (recovery will re-scan)";
  if (t.pending_truncation) out += fmt::format(", truncation to {} pending", *t.pending_truncation);
  for (const auto& note : t.cut_by_recovery) out += "; " + note;
  return out;
}

}  // namespace

result<std::optional<verify_finding>> verify_partition(const partition_target& target,
                                                       verify_totals& totals) {
  return partition_verifier(target, totals).run();
}

std::string format_finding(const verify_finding& f) {
  std::string where;
  if (f.first_bad_offset) where += fmt::format("offset {}", *f.first_bad_offset);
  if (f.position) where += fmt::format("{}position {}", where.empty() ? "" : ", ", *f.position);
  if (!where.empty()) where += ": ";
  return fmt::format("corrupt: {}: {}{}", f.file.string(), where, f.what);
}

std::string format_totals(const fs::path& path, const verify_totals& t) {
  return fmt::format(
      "ok: {}: {}, {}, {}, {}, {}; {} and {} consistent; {}", path.string(),
      counted(t.segments, "segment", "segments"), counted(t.batches, "batch", "batches"),
      counted(t.records, "record", "records"), offsets_text(t), counted(t.bytes, "byte", "bytes"),
      counted(t.index_entries, "index entry", "index entries"),
      counted(t.timeindex_entries, "time index entry", "time index entries"), checkpoint_text(t));
}

exit_status run_verify(const fs::path& path, std::FILE* out) {
  auto target = locate_partition(path);
  if (!target) {
    spdlog::error("{}", target.error().message());
    return exit_status::failure;
  }
  verify_totals totals;
  auto found = verify_partition(*target, totals);
  if (!found) {
    spdlog::error("{}", found.error().message());
    return exit_status::failure;
  }
  if (*found) {
    fmt::print(out, "{}\n", format_finding(**found));
    return exit_status::corruption;
  }
  fmt::print(out, "{}\n", format_totals(path, totals));
  return exit_status::ok;
}

}  // namespace sluice::log_tool
