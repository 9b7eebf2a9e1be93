#include "segment/tools/log_dump.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "protocol/errc.h"
#include "protocol/record.h"
#include "segment/checkpoint.h"
#include "segment/tools/batch_scanner.h"
#include "segment/tools/index_reader.h"
#include "segment/tools/log_file_reader.h"
#include "segment/tools/partition_dir.h"
#include "segment/tools/unrecovered_tail.h"

namespace sluice::log_tool {

namespace {

class dumper {
 public:
  dumper(const dump_options& opts, std::FILE* out) : opts_(opts), out_(out) {}

  exit_status run(const partition_target& target);

 private:
  void print(const std::string& line) { fmt::print(out_, "{}\n", line); }
  void note_corruption() { status_ = std::max(status_, exit_status::corruption); }
  // The checkpoint, if it could be read (else nothing is known to be past a recovery point).
  std::optional<recovery_horizon> dump_checkpoint(const partition_target& target);
  [[nodiscard]] bool wanted(const partition_target& target, std::size_t i) const;
  [[nodiscard]] result<void> dump_segment(const partition_target& target, std::size_t index,
                                          const recovery_horizon& horizon);
  // Prints what stops or troubles the walk over segment `index` at `position`: damage, or
  // bytes recovery will cut (which end the segment's batches).
  walk_end stop_at(const recovery_horizon& horizon, std::size_t index, const segment_files& files,
                   file_pos position, offset next, std::string_view what);
  void dump_batch(const batch_at& batch);
  void dump_records(const batch_at& batch);

  dump_options opts_;
  std::FILE* out_;
  exit_status status_ = exit_status::ok;
};

exit_status dumper::run(const partition_target& target) {
  const auto horizon = target.single_file
                           ? recovery_horizon::none(target)
                           : dump_checkpoint(target).value_or(recovery_horizon::none(target));
  for (std::size_t i = 0; i < target.segments.size(); ++i) {
    if (!wanted(target, i)) continue;
    if (auto r = dump_segment(target, i, horizon); !r) {
      spdlog::error("{}", r.error().message());
      return exit_status::failure;
    }
  }
  return status_;
}

std::optional<recovery_horizon> dumper::dump_checkpoint(const partition_target& target) {
  auto cp = read_checkpoint(target.dir);
  if (cp) {
    print(format_checkpoint(*cp, opts_.format));
    return recovery_horizon(target, *cp);
  }
  print(format_bad_checkpoint(cp.error(), opts_.format));
  note_corruption();
  return std::nullopt;
}

// With --from-offset, a segment followed by one starting at or below it holds nothing wanted.
bool dumper::wanted(const partition_target& target, std::size_t i) const {
  return !opts_.from || i + 1 >= target.segments.size() ||
         target.segments[i + 1].base > *opts_.from;
}

result<void> dumper::dump_segment(const partition_target& target, std::size_t seg,
                                  const recovery_horizon& horizon) {
  const segment_files& files = target.segments[seg];
  auto file = log_file_reader::open(files.log);
  if (!file) return file.error();
  const auto index = read_offset_index(files.index, files.base);
  const auto timeindex = read_time_index(files.timeindex, files.base);
  if (!index || !timeindex || index->hole || timeindex->hole) note_corruption();
  print(format_segment({files, file->size(), index, timeindex}, opts_.format));
  batch_scanner scanner(*file);
  offset next = files.base;  // where the next batch must start
  for (;;) {
    auto batch = scanner.next();
    if (!batch && is_io_error(batch.error())) return batch.error();
    if (!batch) {
      stop_at(horizon, seg, files, scanner.position(), next, batch.error().message());
      return {};
    }
    if (!*batch) return {};
    const batch_header& h = (*batch)->view.header();
    // A recycled file's old batches past the segment's own are whole and may have good CRCs:
    // only their offsets tell them apart.
    if (h.base_offset != next &&
        stop_at(horizon, seg, files, (*batch)->position, next,
                fmt::format("the batch starts at offset {} where {} was expected", h.base_offset,
                            next)) != walk_end::damage) {
      return {};  // past the segment's own batches: not shown as the log's
    }
    next = h.next_offset();
    if (opts_.from && h.last_offset() < *opts_.from) continue;
    dump_batch(**batch);
  }
}

walk_end dumper::stop_at(const recovery_horizon& horizon, std::size_t index,
                         const segment_files& files, file_pos position, offset next,
                         std::string_view what) {
  const walk_end kind = horizon.classify(index, position, next);
  if (kind == walk_end::damage) {
    print(format_problem(files.log, position, what, opts_.format));
    note_corruption();
  } else {
    print(format_cut_by_recovery(files.log, position,
                                 describe_walk_end(kind, files.log, position, next, what),
                                 opts_.format));
  }
  return kind;
}

void dumper::dump_batch(const batch_at& batch) {
  print(format_batch(batch, opts_.format));
  if (!batch.view.crc_matches()) note_corruption();
  if (opts_.records) dump_records(batch);
}

void dumper::dump_records(const batch_at& batch) {
  auto records = decode_records(batch.view);
  if (!records) {
    print(format_undecodable(batch, records.error(), opts_.format));
    // gzip, snappy and lz4 batches from Kafka clients are stored, not decoded: not corruption.
    const bool foreign_codec = records.error().code == protocol_errc::unsupported_compression &&
                               batch.view.header().codec() <= compression::zstd;
    if (!foreign_codec) note_corruption();
    return;
  }
  for (const record_view& r : records->records()) {
    if (!opts_.from || r.offset >= *opts_.from) print(format_record(r, opts_.format));
  }
}

}  // namespace

exit_status run_dump(const std::filesystem::path& path, const dump_options& opts, std::FILE* out) {
  auto target = locate_partition(path);
  if (!target) {
    spdlog::error("{}", target.error().message());
    return exit_status::failure;
  }
  return dumper(opts, out).run(*target);
}

}  // namespace sluice::log_tool
