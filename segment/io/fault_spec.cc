#include "segment/io/fault_spec.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <utility>

namespace sluice::io {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::optional<int> errno_named(std::string_view name) {
  if (name == "EIO") return EIO;
  if (name == "ENOSPC") return ENOSPC;
  if (name == "EDQUOT") return EDQUOT;
  if (name == "EROFS") return EROFS;
  return std::nullopt;
}

std::optional<std::uint64_t> number(std::string_view v) {
  std::uint64_t n = 0;
  const auto* end = v.data() + v.size();
  auto [ptr, ec] = std::from_chars(v.data(), end, n);
  if (v.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return n;
}

result<fault_rule> parse_rule(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_errno_error(
        EINVAL, fmt::format("{}: fault rule '{}': {}", fault_injection_env_var, text, why));
  };
  const auto fields = split(text, ':');
  if (fields.size() < 2) return bad("expected op:errno[:key=value...]");
  fault_rule r;
  r.text = std::string(text);
  if (fields[0] == "write") {
    r.kind = fault_rule::op::write;
  } else if (fields[0] == "sync") {
    r.kind = fault_rule::op::sync;
  } else if (fields[0] == "truncate") {
    r.kind = fault_rule::op::truncate;
  } else if (fields[0] == "zeros") {
    r.kind = fault_rule::op::zeros;
  } else {
    return bad(fmt::format("unknown op '{}' (write, zeros, sync or truncate)", fields[0]));
  }
  const auto err = errno_named(fields[1]);
  if (!err) return bad(fmt::format("unknown errno '{}' (EIO, ENOSPC, EDQUOT or EROFS)", fields[1]));
  r.err = *err;
  for (std::size_t i = 2; i < fields.size(); ++i) {
    const auto eq = fields[i].find('=');
    if (eq == std::string_view::npos) return bad(fmt::format("'{}' is not key=value", fields[i]));
    const auto key = fields[i].substr(0, eq);
    const auto value = fields[i].substr(eq + 1);
    if (key == "partition") {
      if (value.empty() || value.find('/') != std::string_view::npos) {
        return bad("partition= wants <topic>-<n>");
      }
      r.partition = std::string(value);
    } else if (key == "after") {
      auto n = number(value);
      if (!n) return bad(fmt::format("after='{}' is not a number", value));
      r.after = *n;
    } else if (key == "times") {
      if (value == "all") {
        r.times = 0;
      } else {
        auto n = number(value);
        if (!n || *n == 0) return bad(fmt::format("times='{}': a positive number or all", value));
        r.times = *n;
      }
    } else if (key == "written") {
      if (r.kind != fault_rule::op::write && r.kind != fault_rule::op::zeros) {
        return bad("written= applies to write and zeros rules only");
      }
      auto n = number(value);
      if (!n) return bad(fmt::format("written='{}' is not a number", value));
      r.written = static_cast<std::size_t>(*n);
    } else {
      return bad(fmt::format("unknown key '{}' (partition, after, times, written)", key));
    }
  }
  return r;
}

}  // namespace

bool fault_rule::matches(std::string_view what) const {
  if (partition.empty()) return true;
  return what.find(fmt::format("/{}/", partition)) != std::string_view::npos;
}

result<std::vector<fault_rule>> parse_fault_spec(std::string_view spec) {
  std::vector<fault_rule> rules;
  if (spec.empty()) return rules;
  for (const auto text : split(spec, ';')) {
    auto r = parse_rule(text);
    if (!r) return r.error();
    rules.push_back(std::move(*r));
  }
  return rules;
}

}  // namespace sluice::io
