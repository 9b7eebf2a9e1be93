#include "segment/tools/dump_format.h"

#include <fmt/format.h>

#include "segment/tools/byte_format.h"

namespace sluice::log_tool {

namespace {

bool is_json(output_format format) {
  return format == output_format::json;
}

std::string epochs_text(const std::vector<epoch_entry>& epochs) {
  std::string out = "[";
  for (const auto& e : epochs) {
    out += fmt::format("{}{}@{}", out.size() > 1 ? ", " : "", e.epoch, e.start_offset);
  }
  return out + "]";
}

std::string epochs_json(const std::vector<epoch_entry>& epochs) {
  std::string out = "[";
  for (const auto& e : epochs) {
    out += fmt::format("{}{{\"epoch\":{},\"start_offset\":{}}}", out.size() > 1 ? "," : "", e.epoch,
                       e.start_offset);
  }
  return out + "]";
}

// "3 entries (24 bytes)", "missing", "unreadable: ..." and the hole, if any.
template <class Snapshot>
std::string index_text(const result<Snapshot>& snap) {
  if (!snap) return "unreadable: " + snap.error().message();
  if (!snap->present) return "missing";
  std::string out = fmt::format("{} entries ({} bytes)", snap->entries.size(), snap->file_bytes);
  if (snap->hole) {
    out +=
        fmt::format(", then a zeroed entry followed by {} non-zero ones", snap->entries_after_hole);
  }
  return out;
}

template <class Snapshot>
std::string index_json(const result<Snapshot>& snap) {
  if (!snap) return fmt::format("{{\"error\":{}}}", json_string(snap.error().message()));
  if (!snap->present) return "null";
  return fmt::format("{{\"entries\":{},\"bytes\":{},\"entries_after_hole\":{}}}",
                     snap->entries.size(), snap->file_bytes, snap->entries_after_hole);
}

// Attribute flags worth a word, text output only: " log_append_time transactional control".
std::string flags_text(const batch_header& h) {
  std::string out;
  if (h.log_append_time()) out += " log_append_time";
  if (h.is_transactional()) out += " transactional";
  if (h.is_control()) out += " control";
  return out;
}

std::string headers_text(const std::vector<header_view>& headers) {
  std::string out = "{";
  for (const auto& h : headers) {
    out += fmt::format("{}{}: {}", out.size() > 1 ? ", " : "", display_bytes(as_bytes(h.key)),
                       display_bytes(h.value));
  }
  return out + "}";
}

std::string headers_json(const std::vector<header_view>& headers) {
  std::string out = "[";
  for (const auto& h : headers) {
    out += fmt::format("{}{{\"key\":{},{}}}", out.size() > 1 ? "," : "", json_string(h.key),
                       json_bytes_member("value", h.value));
  }
  return out + "]";
}

}  // namespace

std::string codec_name(compression codec) {
  switch (codec) {
    case compression::none:
      return "none";
    case compression::gzip:
      return "gzip";
    case compression::snappy:
      return "snappy";
    case compression::lz4:
      return "lz4";
    case compression::zstd:
      return "zstd";
  }
  return fmt::format("unknown({})", static_cast<int>(codec));
}

std::string format_checkpoint(const std::optional<partition_checkpoint>& cp, output_format format) {
  if (!cp) return is_json(format) ? R"({"type":"checkpoint","present":false})" : "checkpoint: none";
  if (is_json(format)) {
    return fmt::format(
        "{{\"type\":\"checkpoint\",\"present\":true,\"clean\":{},\"log_start_offset\":{},"
        "\"recovery_point\":{},\"recovery_segment\":{},\"recovery_position\":{},"
        "\"truncate_to\":{},\"leader_epochs\":{}}}",
        cp->clean, cp->log_start_offset, cp->recovery_point, cp->recovery_segment,
        cp->recovery_position, cp->truncate_to, epochs_json(cp->leader_epochs));
  }
  return fmt::format(
      "checkpoint: clean={} log_start_offset={} recovery_point={} recovery_segment={} "
      "recovery_position={} truncate_to={} leader_epochs={}",
      cp->clean ? 1 : 0, cp->log_start_offset, cp->recovery_point, cp->recovery_segment,
      cp->recovery_position, cp->truncate_to, epochs_text(cp->leader_epochs));
}

std::string format_bad_checkpoint(const error& e, output_format format) {
  if (is_json(format)) {
    return fmt::format(R"({{"type":"checkpoint","present":true,"error":{}}})",
                       json_string(e.message()));
  }
  return "checkpoint: unreadable: " + e.message();
}

std::string format_segment(const segment_overview& seg, output_format format) {
  if (is_json(format)) {
    return fmt::format(
        "{{\"type\":\"segment\",\"file\":{},\"base_offset\":{},\"size\":{},\"index\":{},"
        "\"timeindex\":{}}}",
        json_string(seg.files.log.string()), seg.files.base, seg.log_bytes, index_json(seg.index),
        index_json(seg.timeindex));
  }
  return fmt::format("segment {} base_offset={} size={}\n  index {}: {}\n  timeindex {}: {}",
                     seg.files.log.string(), seg.files.base, seg.log_bytes,
                     seg.files.index.filename().string(), index_text(seg.index),
                     seg.files.timeindex.filename().string(), index_text(seg.timeindex));
}

std::string format_batch(const batch_at& batch, output_format format) {
  const batch_header& h = batch.view.header();
  const bool crc_ok = batch.view.crc_matches();
  if (is_json(format)) {
    return fmt::format(
        "{{\"type\":\"batch\",\"base_offset\":{},\"last_offset\":{},\"count\":{},"
        "\"position\":{},\"size\":{},\"base_timestamp\":{},\"max_timestamp\":{},"
        "\"codec\":\"{}\",\"attributes\":{},\"leader_epoch\":{},\"producer_id\":{},"
        "\"producer_epoch\":{},\"base_sequence\":{},\"crc_ok\":{}}}",
        h.base_offset, h.last_offset(), h.records_count, batch.position, h.size_bytes(),
        h.base_timestamp, h.max_timestamp, codec_name(h.codec()), h.attributes,
        h.partition_leader_epoch, h.producer_id, h.producer_epoch, h.base_sequence, crc_ok);
  }
  return fmt::format(
      "batch base_offset={} last_offset={} count={} position={} size={} base_timestamp={} "
      "max_timestamp={} codec={} leader_epoch={} producer_id={} producer_epoch={} "
      "base_sequence={}{} crc={}",
      h.base_offset, h.last_offset(), h.records_count, batch.position, h.size_bytes(),
      h.base_timestamp, h.max_timestamp, codec_name(h.codec()), h.partition_leader_epoch,
      h.producer_id, h.producer_epoch, h.base_sequence, flags_text(h), crc_ok ? "ok" : "BAD");
}

std::string format_record(const record_view& r, output_format format) {
  if (is_json(format)) {
    return fmt::format(
        "{{\"type\":\"record\",\"offset\":{},\"timestamp\":{},{},{},\"headers\":{}}}", r.offset,
        r.timestamp, json_bytes_member("key", r.key), json_bytes_member("value", r.value),
        headers_json(r.headers));
  }
  return fmt::format("  record offset={} timestamp={} key={} value={} headers={}", r.offset,
                     r.timestamp, display_bytes(r.key), display_bytes(r.value),
                     headers_text(r.headers));
}

std::string format_undecodable(const batch_at& batch, const error& e, output_format format) {
  const offset base = batch.view.header().base_offset;
  if (is_json(format)) {
    return fmt::format(R"({{"type":"undecodable","base_offset":{},"error":{}}})", base,
                       json_string(e.message()));
  }
  return fmt::format("  records not decoded: {}", e.message());
}

std::string format_problem(const std::filesystem::path& file, file_pos position,
                           std::string_view what, output_format format) {
  if (is_json(format)) {
    return fmt::format(R"({{"type":"problem","file":{},"position":{},"error":{}}})",
                       json_string(file.string()), position, json_string(what));
  }
  return fmt::format("problem in {} at position {}: {}", file.string(), position, what);
}

std::string format_cut_by_recovery(const std::filesystem::path& file, file_pos position,
                                   std::string_view what, output_format format) {
  if (is_json(format)) {
    return fmt::format(R"({{"type":"cut_by_recovery","file":{},"position":{},"note":{}}})",
                       json_string(file.string()), position, json_string(what));
  }
  return fmt::format("end of {} at position {}: {}", file.string(), position, what);
}

}  // namespace sluice::log_tool
