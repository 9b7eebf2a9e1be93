#include "segment/io/faulty_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace sluice::io {

namespace {

error injected_write_error(int err, std::string_view what, std::uint64_t pos, std::size_t done,
                           std::size_t total) {
  return make_errno_error(err, fmt::format("write {} at position {} ({} of {} bytes written, "
                                           "injected fault)",
                                           what, pos + done, done, total));
}

std::size_t total_size(write_buffers data) {
  std::size_t n = 0;
  for (const auto& b : data) n += b.size();
  return n;
}

// The first `n` bytes of `data`, as buffers.
std::vector<std::span<const std::byte>> first_bytes(write_buffers data, std::size_t n) {
  std::vector<std::span<const std::byte>> out;
  for (const auto& b : data) {
    if (n == 0) break;
    out.push_back(b.first(std::min(n, b.size())));
    n -= out.back().size();
  }
  return out;
}

error injected_sync_error(int err, std::string_view what, sync_kind kind = sync_kind::data) {
  const std::string_view call = kind == sync_kind::filesystem ? "syncfs"
                                : kind == sync_kind::full     ? "fsync"
                                                              : "fdatasync";
  return make_errno_error(err, fmt::format("{} {} (injected fault)", call, what));
}

}  // namespace

faulty_backend::faulty_backend(boost::asio::io_context& ctx, std::unique_ptr<backend> inner)
    : ctx_(ctx), inner_(std::move(inner)), name_(fmt::format("faulty({})", inner_->name())) {}

void faulty_backend::async_write_at(int fd, std::uint64_t pos, write_buffers data,
                                    std::string_view what, write_handler handler) {
  ++writes_;
  if (holding_zero_writes_ && what.starts_with(zeros_write_what)) {
    held_zero_writes_.push_back(
        {fd, pos, {data.begin(), data.end()}, std::string(what), std::move(handler)});
    return;
  }
  if (auto fault = take_write_fault(what)) {
    write_prefix_then_fail(fd, pos, data, what, *fault, std::move(handler));
    return;
  }
  if (what.starts_with(zeros_write_what)) {
    start_zero_write(fd, pos, data, what, std::move(handler));
    return;
  }
  inner_->async_write_at(fd, pos, data, what, std::move(handler));
}

void faulty_backend::start_zero_write(int fd, std::uint64_t pos, write_buffers data,
                                      std::string_view what, write_handler handler) {
  ++*zero_writes_in_flight_;
  inner_->async_write_at(
      fd, pos, data, what,
      [in_flight = zero_writes_in_flight_, handler = std::move(handler)](result<std::size_t> r) {
        --*in_flight;
        handler(std::move(r));
      });
}

void faulty_backend::write_prefix_then_fail(int fd, std::uint64_t pos, write_buffers data,
                                            std::string_view what, write_fault fault,
                                            write_handler handler) {
  const std::size_t size = total_size(data);
  const std::size_t prefix = std::min(fault.prefix, size);
  auto failure = injected_write_error(fault.err, what, pos, prefix, size);
  if (prefix == 0) {
    post_while_alive(ctx_, alive_.watch(),
                     [handler = std::move(handler), failure = std::move(failure)]() mutable {
                       handler(std::move(failure));
                     });
    return;
  }
  const auto head = first_bytes(data, prefix);
  inner_->async_write_at(
      fd, pos, write_buffers(head), what,
      [handler = std::move(handler), failure = std::move(failure)](result<std::size_t> r) mutable {
        if (!r) return handler(std::move(r));  // a real error comes first
        handler(std::move(failure));
      });
}

void faulty_backend::async_datasync(int fd, std::string_view what, sync_handler handler) {
  start_sync(fd, what, std::move(handler), sync_kind::data);
}

void faulty_backend::async_fsync(int fd, std::string_view what, sync_handler handler) {
  start_sync(fd, what, std::move(handler), sync_kind::full);
}

void faulty_backend::async_sync_filesystem(int fd, std::string_view what, sync_handler handler) {
  start_sync(fd, what, std::move(handler), sync_kind::filesystem);
}

void faulty_backend::async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                                           std::string_view what, sync_handler handler) {
  // Only a hint: faults are injected where durability is decided, in the syncs.
  writeback_ranges_.emplace_back(from, length);
  inner_->async_start_writeback(fd, from, length, what, std::move(handler));
}

void faulty_backend::start_sync(int fd, std::string_view what, sync_handler handler,
                                sync_kind kind) {
  ++syncs_;
  if (auto err = take_sync_fault(what)) {
    post_while_alive(ctx_, alive_.watch(),
                     [handler = std::move(handler),
                      failure = injected_sync_error(*err, what, kind)]() { handler(failure); });
    return;
  }
  if (kind == sync_kind::full) return inner_->async_fsync(fd, what, std::move(handler));
  if (kind == sync_kind::filesystem) {
    return inner_->async_sync_filesystem(fd, what, std::move(handler));
  }
  inner_->async_datasync(fd, what, std::move(handler));
}

result<std::size_t> faulty_backend::read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                            std::string_view what) {
  return inner_->read_at(fd, pos, out, what);
}

result<void> faulty_backend::truncate(int fd, std::uint64_t size, std::string_view what) {
  ++truncates_;
  auto err = std::exchange(next_truncate_, std::nullopt);
  if (!err && !rules_.empty()) {
    if (const auto* r = fire_rule(fault_rule::op::truncate, what)) err = r->err;
  }
  if (err) {
    return make_errno_error(*err,
                            fmt::format("truncate {} to {} bytes (injected fault)", what, size));
  }
  return inner_->truncate(fd, size, what);
}

result<void> faulty_backend::datasync(int fd, std::string_view what) {
  ++syncs_;
  // `what` names the call already ("fdatasync <file>"), as sync_ops::datasync reports it.
  if (auto err = take_sync_fault(what)) {
    return make_errno_error(*err, fmt::format("{} (injected fault)", what));
  }
  return inner_->datasync(fd, what);
}

void faulty_backend::fail_next_write(int err, std::size_t bytes_written_first) {
  next_write_ = write_fault{err, bytes_written_first};
}

void faulty_backend::fail_all_writes(int err) {
  all_writes_ = err;
}
void faulty_backend::fail_next_sync(int err) {
  next_sync_ = err;
}
void faulty_backend::fail_all_syncs(int err) {
  all_syncs_ = err;
}
void faulty_backend::fail_next_truncate(int err) {
  next_truncate_ = err;
}

void faulty_backend::add_rule(fault_rule rule) {
  rules_.push_back({std::move(rule)});
}

faulty_backend::~faulty_backend() {
  for (const auto& held : held_closes_) ::close(held.first);
}

void faulty_backend::close_later(int fd, std::string_view what) {
  if (holding_closes_) {
    held_closes_.emplace_back(fd, std::string(what));
    return;
  }
  inner_->close_later(fd, what);
}

void faulty_backend::drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                                      std::string_view what) {
  drop_ranges_.emplace_back(from, length);
  inner_->drop_cache_later(fd, from, length, what);
}

void faulty_backend::release_held_closes() {
  holding_closes_ = false;
  for (const auto& [fd, what] : std::exchange(held_closes_, {})) inner_->close_later(fd, what);
}

void faulty_backend::release_held_zero_writes() {
  holding_zero_writes_ = false;
  for (auto& w : std::exchange(held_zero_writes_, {})) {
    start_zero_write(w.fd, w.pos, write_buffers(w.data), w.what, std::move(w.handler));
  }
}

void faulty_backend::clear_faults() {
  rules_.clear();
  next_write_.reset();
  all_writes_.reset();
  next_sync_.reset();
  all_syncs_.reset();
  next_truncate_.reset();
}

const fault_rule* faulty_backend::fire_rule(fault_rule::op kind, std::string_view what) {
  const fault_rule* fired = nullptr;
  for (auto& r : rules_) {
    if (r.rule.kind != kind || !r.rule.matches(what)) continue;
    ++r.seen;
    if (fired != nullptr || r.seen <= r.rule.after) continue;
    if (r.rule.times != 0 && r.fired >= r.rule.times) continue;
    ++r.fired;
    fired = &r.rule;
  }
  return fired;
}

std::optional<faulty_backend::write_fault> faulty_backend::take_write_fault(std::string_view what) {
  if (auto fault = std::exchange(next_write_, std::nullopt)) return fault;
  if (all_writes_) return write_fault{*all_writes_, 0};
  if (rules_.empty()) return std::nullopt;
  const auto kind =
      what.starts_with(zeros_write_what) ? fault_rule::op::zeros : fault_rule::op::write;
  if (const auto* r = fire_rule(kind, what)) return write_fault{r->err, r->written};
  return std::nullopt;
}

std::optional<int> faulty_backend::take_sync_fault(std::string_view what) {
  if (auto err = std::exchange(next_sync_, std::nullopt)) return err;
  if (all_syncs_) return all_syncs_;
  if (rules_.empty()) return std::nullopt;
  if (const auto* r = fire_rule(fault_rule::op::sync, what)) return r->err;
  return std::nullopt;
}

}  // namespace sluice::io
