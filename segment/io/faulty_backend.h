#pragma once
// A fault-injecting decorator for tests: it forwards to an inner backend and, when told, makes
// writes, syncs or truncations fail with a chosen errno — the disk-error policy of the
// partition log is tested branch by branch through it.
//
// One-shot faults (fail_next_*) apply to the next matching call and are then used up; they take
// precedence over standing faults (fail_all_*), which apply until clear_faults().
// Injected failures are reported like real ones: through the handler, on the io_context thread,
// never inline; the error carries the errno, `what` and the position.
//
// Rules (add_rule, segment/io/fault_spec.h) fail matching calls by the file they name; the broker
// installs them from SLUICE_FAULT_INJECTION so integration tests reach a real sluiced. They apply
// after the one-shot and standing faults, and count every call they match.
//
// Threading: shard-owned like the inner backend; no mutex. The io_context must outlive it.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segment/io/alive_token.h"
#include "segment/io/backend.h"
#include "segment/io/fault_spec.h"
#include "segment/io/pending_op.h"

namespace sluice::io {

class faulty_backend final : public backend {
 public:
  faulty_backend(boost::asio::io_context& ctx, std::unique_ptr<backend> inner);
  ~faulty_backend() override;

  // "faulty(<inner name>)"
  [[nodiscard]] std::string_view name() const override { return name_; }

  using backend::async_write_at;
  void async_write_at(int fd, std::uint64_t pos, write_buffers data, std::string_view what,
                      write_handler handler) override;
  // Covers the same writes as the inner backend's async_datasync.
  void async_datasync(int fd, std::string_view what, sync_handler handler) override;
  void async_fsync(int fd, std::string_view what, sync_handler handler) override;
  // Sync faults apply to it as to async_datasync.
  void async_sync_filesystem(int fd, std::string_view what, sync_handler handler) override;
  void async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                             std::string_view what, sync_handler handler) override;
  // Forwarded, or kept while hold_closes() is in force.
  void close_later(int fd, std::string_view what) override;
  void drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                        std::string_view what) override;

  result<std::size_t> read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                              std::string_view what) override;
  result<void> truncate(int fd, std::uint64_t size, std::string_view what) override;
  result<void> datasync(int fd, std::string_view what) override;

  // The next async_write_at really writes only the first `bytes_written_first` bytes of its data
  // (all its buffers together, through the inner backend), then reports `err`: a torn or short
  // write followed by e.g. ENOSPC or EIO. With 0, nothing is written.
  void fail_next_write(int err, std::size_t bytes_written_first = 0);
  // Every async_write_at fails with `err` and writes nothing (a full disk), until clear_faults().
  void fail_all_writes(int err);
  // The next datasync (async_datasync, async_sync_filesystem or datasync) fails with `err`
  // without syncing anything.
  void fail_next_sync(int err);
  // Every datasync fails with `err` without syncing, until clear_faults().
  void fail_all_syncs(int err);
  // The next truncate fails with `err` and leaves the file as it was.
  void fail_next_truncate(int err);
  // Adds a rule (see fault_spec.h): it fails the calls it matches, by the file they name.
  void add_rule(fault_rule rule);
  // Removes every fault, one-shot, standing and rules.
  void clear_faults();

  // Calls so far, failed ones included: async_write_at; async_datasync, async_sync_filesystem
  // and datasync; truncate.
  [[nodiscard]] std::uint64_t writes() const { return writes_; }
  [[nodiscard]] std::uint64_t syncs() const { return syncs_; }
  [[nodiscard]] std::uint64_t truncates() const { return truncates_; }
  // The ranges async_start_writeback was asked for, in order (from, length).
  [[nodiscard]] const std::vector<std::pair<std::uint64_t, std::uint64_t>>& writeback_ranges()
      const {
    return writeback_ranges_;
  }
  // The ranges given to drop_cache_later, in order (forwarded too).
  [[nodiscard]] const std::vector<std::pair<std::uint64_t, std::uint64_t>>& drop_ranges() const {
    return drop_ranges_;
  }

  // close_later keeps its descriptors open until release_held_closes() forwards them, so a
  // test sees what its caller left for the backend to close (and not closed itself).
  void hold_closes() { holding_closes_ = true; }
  void release_held_closes();

  // Zero writes (zero_tail's: `what` starts with zeros_write_what) are kept unstarted from
  // hold_zero_writes() until release_held_zero_writes() starts them, so a test sees what waits
  // for them. Their bytes must outlive the hold (zero_tail's are static).
  void hold_zero_writes() { holding_zero_writes_ = true; }
  void release_held_zero_writes();
  [[nodiscard]] std::size_t held_zero_writes() const { return held_zero_writes_.size(); }
  // Zero writes handed to the inner backend (not those a fault fails) whose handlers have not
  // run yet.
  [[nodiscard]] std::size_t zero_writes_in_flight() const { return *zero_writes_in_flight_; }

  [[nodiscard]] backend& inner() { return *inner_; }

 private:
  void start_sync(int fd, std::string_view what, sync_handler handler, sync_kind kind);
  void start_zero_write(int fd, std::uint64_t pos, write_buffers data, std::string_view what,
                        write_handler handler);
  struct write_fault {
    int err;
    std::size_t prefix;  // bytes written before the failure
  };

  struct rule_state {
    fault_rule rule;
    std::uint64_t seen = 0;   // matching calls
    std::uint64_t fired = 0;  // failures injected
  };

  std::optional<write_fault> take_write_fault(std::string_view what);
  std::optional<int> take_sync_fault(std::string_view what);
  // The first rule of `kind` that fails this call; every matching rule counts the call.
  const fault_rule* fire_rule(fault_rule::op kind, std::string_view what);
  void write_prefix_then_fail(int fd, std::uint64_t pos, write_buffers data, std::string_view what,
                              write_fault fault, write_handler handler);

  boost::asio::io_context& ctx_;
  std::unique_ptr<backend> inner_;
  std::string name_;
  std::optional<write_fault> next_write_;
  std::optional<int> all_writes_;
  std::optional<int> next_sync_;
  std::optional<int> all_syncs_;
  std::optional<int> next_truncate_;
  std::vector<rule_state> rules_;
  std::uint64_t writes_ = 0;
  std::uint64_t syncs_ = 0;
  std::uint64_t truncates_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> writeback_ranges_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> drop_ranges_;
  bool holding_closes_ = false;
  std::vector<std::pair<int, std::string>> held_closes_;
  struct held_write {
    int fd;
    std::uint64_t pos;
    std::vector<std::span<const std::byte>> data;
    std::string what;
    write_handler handler;
  };
  bool holding_zero_writes_ = false;
  std::vector<held_write> held_zero_writes_;
  // Shared with the handlers it wraps, which may outlive this backend.
  std::shared_ptr<std::size_t> zero_writes_in_flight_ = std::make_shared<std::size_t>(0);
  alive_token alive_;
};

}  // namespace sluice::io
