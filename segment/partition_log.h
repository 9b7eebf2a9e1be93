#pragma once
// A partition's log: an ordered set of segments, of which the last is active (appended to).
//
// Threading: a partition_log belongs to one shard. Every method must be called on the thread
// running the io_context it was opened with; completion handlers run there too. No locking.
//
// What the offsets mean:
//   log_start_offset  first offset still readable (retention moves it up)
//   log_end_offset    next offset to assign; appends in flight are below it
//   visible_end       every offset below it is acknowledged: durable under flush=always, in the
//                     page cache under flush=interval. Reads never go past it.
//   durable_end       every offset below it has been fdatasync'd
//   recovery point    durable_end as of the last checkpoint; recovery re-scans from there
//
// Appends complete in offset order. An append that fails (bad batch, ENOSPC, EIO) leaves no
// readable trace; see segment/README.md for the disk-error policy.

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/held_bytes.h"
#include "protocol/result.h"
#include "protocol/strong_types.h"
#include "segment/cache_drop_behind.h"
#include "segment/checkpoint.h"
#include "segment/clock.h"
#include "segment/log_config.h"
#include "segment/log_slice.h"
#include "segment/page_cache_budget.h"
#include "segment/segment.h"
#include "segment/zero_tail.h"

namespace sluice {

namespace io {
class backend;
}

struct append_info {
  offset base_offset;
  offset last_offset;
};

// What recovery did when the log was opened.
struct recovery_report {
  bool clean = false;               // opened after a clean close; nothing scanned
  std::uint64_t bytes_scanned = 0;  // bytes re-validated past the recovery point
  std::uint64_t batches_scanned = 0;
  std::uint64_t bytes_truncated = 0;  // torn or corrupt tail cut away
  std::uint64_t zeros_trimmed = 0;    // zeros kept ahead of appends (zero_tail.h) cut away
  std::size_t segments_deleted = 0;   // segments after a cut, or below the log start offset
  std::optional<offset> cut_at;       // offset where the log was cut, if it was
  std::string cut_reason;             // why the first bad batch was refused
};

class partition_log {
 public:
  // Group commits allowed in flight at once (acknowledged strictly in order). 1 by default:
  // on ext4 here two or three concurrent fdatasyncs measured slower than one (perf/RESULTS.md).
  static inline std::size_t max_syncs_in_flight = 1;
  // Most bytes of appends gathered into one write. Under flush=interval a write's completion is
  // what acknowledges, so several smaller writes in flight keep the kernel copying while the
  // shard acknowledges; under flush=always the fdatasync that follows is what acknowledges, so
  // everything of a turn goes in one write.
  static inline std::size_t max_write_bytes_interval = 256 * 1024;
  // Under flush=interval, writeback of a log file's new bytes starts once this many have been
  // written since the last start (sync_file_range, backend.h). Without it the page cache holds
  // a whole interval's bytes and the interval's fdatasync writes them all at once, which holds
  // the disk long enough to stall the appends behind it (perf/RESULTS.md: relaxed p99 at 50k
  // msgs/s). 0 turns it off.
  static inline std::uint64_t writeback_kick_bytes = 4 << 20;
  // Under flush=always, the .log of one segment retention deletes is kept (renamed
  // <base>.recycle) and becomes the next segment's .log, written over in place: on this ext4 a
  // group commit's fdatasync then has no block allocation or size change to persist and takes
  // about half as long (perf/RESULTS.md, "Recycled segment files"), as PostgreSQL recycles WAL
  // files. It costs up to two segments of disk per partition beyond retention. Files smaller
  // than recycle_min_bytes are deleted as before. Never on tmpfs, where it would save nothing
  // and could not tell a socket's pages from the file's. false: never recycle.
  static inline bool recycle_segments = true;
  static inline std::uint64_t recycle_min_bytes = 1 << 20;
  // No file is kept while the file system has less free than this: on a nearly full disk the
  // space retention frees must come back (a broker refuses appends below --min-free-bytes, and
  // a kept file would hold the space that lets it append again).
  static inline std::uint64_t recycle_min_free_bytes = 1ULL << 30;
  // Before a kept file is written over, its pages leave the page cache (page_release.h): a
  // socket may still hold some. Evicting them costs about 70 ms per cached GiB, so a file with
  // more than this cached has them dropped by the backend, off the shard, and the roll makes a
  // new file; a later roll takes the kept one.
  static inline std::uint64_t recycle_inline_release_bytes = 4 << 20;

  using append_handler = std::function<void(result<append_info>)>;

  // Called on open with the header of every batch in the segments wholly below the log start
  // (a crash came between retention's checkpoint and its deletion of them), before they are
  // deleted, so what the owner keeps of deleted segments (the broker's producer snapshot) can
  // take them in as retention would have (enforce_retention).
  using leftover_hook = std::function<void(const batch_header&)>;

  // Opens the log in `dir` (created if missing), running recovery. Synchronous; call on the
  // owning thread. `io` and `clk` must outlive the log.
  static result<std::unique_ptr<partition_log>> open(std::filesystem::path dir, log_config config,
                                                     io::backend& io, boost::asio::io_context& ctx,
                                                     const clock& clk = real_clock(),
                                                     const leftover_hook& on_leftover = {});
  ~partition_log();
  partition_log(const partition_log&) = delete;
  partition_log& operator=(const partition_log&) = delete;

  // Appends one RecordBatch v2 as a producer sent it. The batch is validated (length, magic,
  // CRC, records) and refused whole if anything is wrong; then offsets are assigned, the base
  // offset and leader epoch stamped, and the handler runs when the batch is acknowledged under
  // the flush policy. Never completes inline. The bytes are written in place: the log holds
  // them (whatever else shares them stays alive too) until their write is done.
  void append(held_bytes batch, append_handler handler);
  // Why append() would refuse this batch right now without writing anything: a bad batch
  // (length, magic, CRC, records), or check_appendable(). A caller that counts a batch as in
  // flight before appending it (the broker's idempotent producer state) checks first, so that
  // a refused batch never holds a place in its producer's sequence, then calls
  // append_checked() in the same turn, which does not validate the batch again.
  [[nodiscard]] result<void> check_batch(byte_span batch) const;
  void append_checked(held_bytes batch, append_handler handler);
  // Why an append of batch_size bytes would be refused right now (closing, offline, an earlier
  // append being cut away, above max.message.bytes). check_batch() checks the same.
  [[nodiscard]] result<void> check_appendable(std::size_t batch_size) const;

  // Called at once, on the log's thread, when a failed write cuts the log back to `cut`: the
  // appends from `cut` on fail, but their answers are posted, and an append queued meanwhile
  // lands at `cut`. A caller tracking what is in flight (the broker's producer state) must not
  // wait for those answers to learn that nothing from `cut` on was written.
  using cut_back_hook = std::function<void(offset cut)>;
  void on_cut_back(cut_back_hook hook) { on_cut_back_ = std::move(hook); }

  // Asio-style: co_await log.async_append(std::move(b), asio::use_awaitable) etc.
  template <class CompletionToken>
  auto async_append(held_bytes batch, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(result<append_info>)>(
        [this](auto handler, held_bytes b) {
          append(std::move(b), [h = std::make_shared<decltype(handler)>(std::move(handler))](
                                   result<append_info> r) mutable { (*h)(std::move(r)); });
        },
        token, std::move(batch));
  }

  // Whole batches starting with the one holding `from`, up to max_bytes (at least one batch),
  // within one segment, never past visible_end. Empty at visible_end; offset_out_of_range below
  // the log start or above visible_end.
  [[nodiscard]] result<log_slice> read(offset from, std::size_t max_bytes) const;
  // The first offset whose batch has a record with timestamp >= ts (the record's exact offset),
  // nullopt when no visible record is that late.
  [[nodiscard]] result<std::optional<offset>> offset_for_timestamp(std::int64_t ts) const;

  [[nodiscard]] offset log_start_offset() const { return log_start_; }
  [[nodiscard]] offset log_end_offset() const { return next_offset_; }
  [[nodiscard]] offset visible_end() const { return visible_.next; }
  [[nodiscard]] offset durable_end() const { return durable_.next; }
  [[nodiscard]] offset recovery_point() const { return checkpointed_.recovery_point; }
  [[nodiscard]] bool offline() const { return offline_.has_value(); }
  [[nodiscard]] std::size_t segment_count() const { return segments_.size(); }
  [[nodiscard]] std::uint64_t size_bytes() const;
  [[nodiscard]] const recovery_report& last_recovery() const { return recovery_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] const log_config& config() const { return config_; }
  // From now on the page cache this log keeps is also bounded by its share of `budget`
  // (page_cache_budget.h), and the log counts in it while active, until destroyed.
  void join_page_cache_budget(std::shared_ptr<page_cache_budget> budget);
  // Call periodically (the shard does, every second): a log in a budget that has gone idle
  // leaves the count and drops what it kept of its active segment.
  void check_page_cache_idle();
  [[nodiscard]] std::vector<offset> segment_bases() const;

  // Calls fn with the header of every visible batch from the one holding `from` (clamped to
  // the first segment) to visible_end, in offset order: headers only, no record bytes are read.
  // Used to rebuild per-producer state on open. Segments below the log start are there only
  // while retention's hook runs (enforce_retention), and are read then.
  // With `until`, segments starting at or after it are not read.
  [[nodiscard]] result<void> scan_batch_headers(
      offset from, const std::function<void(const batch_header&)>& fn,
      offset until = offset{std::numeric_limits<std::int64_t>::max()}) const;

  // Applies new settings to a live log: retention, roll and the batch limit at once; the flush
  // policy from the next append on (appends already written under interval are covered by the
  // next fdatasync); index settings for new segments. Fails with bad_config, changing nothing.
  [[nodiscard]] result<void> reconfigure(const log_config& config);

  // Leader epochs: batches appended from now on carry `epoch`; a new epoch is recorded with
  // its start offset (the current log end) in the checkpoint. REQUIRES: epoch >= current.
  [[nodiscard]] result<void> begin_leader_epoch(leader_epoch epoch);
  [[nodiscard]] const std::vector<epoch_entry>& leader_epochs() const { return epochs_; }

  // Deletes whole closed segments past retention.ms / retention.bytes and advances the log
  // start offset. Returns the number of segments deleted. When there is something to delete,
  // `before_deleting` is called with the new log start once it is durable (the checkpoint
  // needs the disk's last free page more than anything the hook writes), while the segments
  // below it are still there to read (the broker saves what its producer table needs of them).
  // A crash before they are all deleted leaves them to the next open (open's `on_leftover`).
  using retention_hook = std::function<void(offset new_log_start)>;
  [[nodiscard]] result<std::size_t> enforce_retention(const retention_hook& before_deleting = {});
  // Cuts the log so it ends at the start of the batch holding `end` (for followers that
  // diverged). REQUIRES: no appends in flight (else busy); end in [log start, log end].
  [[nodiscard]] result<void> truncate_to(offset end);
  // Writes the checkpoint now (the recovery point becomes durable_end).
  [[nodiscard]] result<void> checkpoint();
  // Stops accepting appends, waits for those in flight, fdatasyncs, seals the indexes and writes
  // a clean checkpoint. The handler runs when done; the log may then be destroyed.
  void close(std::function<void(result<void>)> handler);

 private:
  struct position {  // a point in the log: an offset and where its batch starts
    offset next{0};
    offset segment_base{0};
    file_pos pos{0};
  };
  struct pending_append;

  partition_log(std::filesystem::path dir, log_config config, io::backend& io,
                boost::asio::io_context& ctx, const clock& clk);

  // open/recovery (partition_log_recovery.cc)
  result<void> recover(const leftover_hook& on_leftover);
  result<void> load_segments(const std::optional<partition_checkpoint>& cp);
  result<void> drop_segments_below_log_start(const leftover_hook& on_leftover);
  // The base of the first segment that may hold bytes no fdatasync covered.
  result<offset> restore_trusted_segments(const std::optional<partition_checkpoint>& cp);
  // Re-validates `seg` from `from` and cuts it at the first bad batch. `cut` is set when what
  // was cut may have held offsets: not zeros kept ahead, nor bytes past the batches of a
  // segment the next one continues.
  result<void> scan_segment(segment& seg, file_pos from, bool& cut);
  result<void> delete_segments_after(offset base);
  result<void> cut_at_offset_gap(offset unsynced_from);
  void report_damage_before(offset base);
  [[nodiscard]] result<void> check_segment_name(const segment& seg) const;
  result<void> seal_if_sealed(segment& seg);
  result<void> cut_to(offset end);
  result<void> finish_open();

  struct sync_join {  // one fdatasync per dirty file; done when all have answered
    explicit sync_join(std::size_t n) : remaining(n) {}
    std::size_t remaining;
    std::optional<error> first_error;
  };

  // append path (partition_log_append.cc)
  // Appends a batch `checked` found valid, or refuses it with what `checked` says.
  void append_after(const result<void>& checked, held_bytes batch, append_handler handler);
  result<void> maybe_roll(std::size_t batch_size);
  result<void> roll();
  // One file of a group commit: fdatasync (fsync for a directory), or a filesystem sync under
  // flush=interval.
  void sync_file(const std::shared_ptr<log_file>& f, bool directory,
                 const std::function<void(result<void>)>& done);
  void schedule_submit();
  void submit();
  void write_queued();
  void start_write(std::size_t first, std::size_t last);
  void on_write_done(const std::vector<std::shared_ptr<pending_append>>& run,
                     result<std::size_t> r);
  void note_dirty(const std::shared_ptr<log_file>& f);
  // Starts writeback of `f` up to `written_end` when enough has piled up (writeback_kick_bytes).
  void maybe_start_writeback(const std::shared_ptr<log_file>& f, std::uint64_t write_start,
                             std::uint64_t written_end);
  bool writes_in_flight() const;
  void advance();
  // Where the appends a sync started now would cover end: those written or being written, up
  // to the first failed or not yet submitted one.
  std::optional<position> sync_candidates_end() const;
  void maybe_start_sync();
  // Fdatasyncs every dirty file; when done (and every earlier sync is), the appends below
  // target are acknowledged.
  void start_sync(position target);
  void on_sync_done(std::uint64_t id, const std::optional<error>& err);
  // What the page cache keeps of the log once durable_ moved (cache_drop_behind.h).
  void drop_cache_behind_durable();
  // Drops the durable bytes more than keep_bytes behind the durable end, rolled segments' too.
  void drop_cache_keeping(std::int64_t keep_bytes);
  void acknowledge_written();
  void acknowledge_below(offset end);
  void acknowledge_front();
  void roll_back_failed_writes();
  void fail_pending(const error& e);
  void fence(const error& e);
  void schedule_flush_timer();
  void on_flush_timer();
  void maybe_finish_close();
  // A zero write of zero_tail_ ended: writes that waited for it may start, a close finish, and
  // `cut` (when not null) be synced.
  void on_zeros_written(const std::shared_ptr<log_file>& cut);
  // The write carrying padding_ ended: writes that waited for it may start.
  void on_padded_write_done();

  // helpers
  segment& active() { return *segments_.rbegin()->second; }
  // Where the acknowledged bytes of `seg` end: reads never go past it.
  file_pos visible_end_in(const segment& seg) const;
  position end_position() const;
  partition_checkpoint make_checkpoint(bool clean) const;
  // Where a checkpoint written now may say recovery starts: durable_, or the start of the first
  // sealed segment whose indexes are not synced yet when durable_ is past it.
  position recovery_floor() const;

  // checkpoints (partition_log_checkpoint.cc)
  // Writes `cp` now, synchronously; a periodic checkpoint in flight is then not installed.
  result<void> store_checkpoint(const partition_checkpoint& cp);
  // The periodic checkpoint, which keeps the shard's thread free: the fdatasyncs of the active
  // indexes and of checkpoint.tmp and the directory's fsync go through the backend; only the
  // small write and the rename run here. One at a time; close() waits for it.
  void start_periodic_checkpoint();
  struct checkpoint_job;
  void install_periodic_checkpoint(const std::shared_ptr<checkpoint_job>& job);
  void end_periodic_checkpoint(const std::optional<error>& err);
  void discard_periodic_tmp() const;
  result<void> delete_segments_below(offset new_start, const retention_hook& before_deleting);
  // Deletes the first segment, keeping its .log for recycling when the log has none kept yet.
  result<void> retire_first_segment();
  // A file to write the next segment over (empty: none), taken from recyclable_ once no reader
  // holds it.
  std::filesystem::path take_recyclable();
  // Deletes the file kept for recycling (the log's flush policy no longer recycles).
  void drop_recyclable();
  // Has the backend evict the kept file's pages from the page cache, off this thread.
  void drop_recyclable_cache_later() const;
  // Whether this log keeps and writes over deleted segments' files now.
  [[nodiscard]] bool recycles() const {
    return recycle_segments && config_.flush.kind == flush_policy::mode::always &&
           !in_page_cache_only_;
  }
  // A file that gets no more appends (rolled, closing) and whose batches end at `end`: cuts the
  // zeros or recycled bytes it has past `end`. Whether its size changed (a sync must cover it).
  bool cut_to_batches(const std::shared_ptr<log_file>& f, std::uint64_t end);
  // Hands the held files of retired segments to the backend's close, each once no reader has
  // its .log any more (or every one, when the log closes).
  void release_retired(bool even_if_read);
  // segment::release_index_descriptors, for a segment that is sealed: a failed close is
  // logged (the descriptor is gone either way and nothing written depends on it).
  void release_index_descriptors(segment& sealed) const;
  // close(): fdatasyncs what no sync covered yet (dirty files, what a roll left).
  result<void> sync_before_close();

  std::filesystem::path dir_;
  log_config config_;
  io::backend& io_;
  boost::asio::io_context& ctx_;
  const clock& clock_;
  segment_options seg_opts_;

  std::map<offset, std::unique_ptr<segment>> segments_;  // by base offset
  offset log_start_{0};
  offset next_offset_{0};
  position visible_;
  position durable_;
  partition_checkpoint checkpointed_;
  std::int64_t last_checkpoint_ms_ = 0;
  std::uint64_t checkpoint_generation_ = 0;  // checkpoints written or started so far
  bool checkpoint_in_flight_ = false;        // a periodic checkpoint has not ended yet
  std::vector<epoch_entry> epochs_;
  leader_epoch current_epoch_{0};
  recovery_report recovery_;
  std::optional<offset> rescanned_from_;  // first segment recovery re-scanned (to fdatasync)

  std::deque<std::shared_ptr<pending_append>> pending_;  // in offset order
  std::vector<std::shared_ptr<log_file>> dirty_files_;   // written to since the last sync began
  // What a roll left for the next sync besides dirty_files_: the sealed segment's two indexes
  // (duplicated descriptors) and the directory, whose fsync makes the new file's name durable.
  struct roll_sync {
    std::shared_ptr<log_file> file;
    bool directory;
  };
  std::vector<roll_sync> roll_syncs_;
  // Sealed segments whose indexes no finished sync covers yet, oldest first, with the group
  // commit that syncs them once one started. A group that began before the roll can finish
  // first and carry durable_ past them, so a checkpoint's recovery point stops at the first
  // of them (recovery_floor()): its indexes are not trusted before they are on disk.
  struct unsynced_seal {
    offset segment_base;
    std::optional<std::uint64_t> synced_by;
  };
  std::deque<unsynced_seal> unsynced_seals_;
  zero_tail zero_tail_;                                    // zeros ahead of small durable appends
  cache_drop_behind cache_drop_;                           // the page cache behind the durable end
  std::unique_ptr<page_cache_budget::share> cache_share_;  // null: no broker-wide budget
  std::shared_ptr<log_file> writeback_file_;               // the file early writeback follows
  std::uint64_t writeback_from_ = 0;  // where its bytes not yet handed to writeback start
  bool writeback_in_flight_ = false;
  bool submit_posted_ = false;  // submit() runs at the end of the turn
  struct sync_group {           // one group commit in flight
    std::uint64_t id;
    position target;  // it covers the appends below target.next
    bool done;
  };
  std::deque<sync_group> syncs_;  // oldest first
  std::uint64_t next_sync_id_ = 0;
  cut_back_hook on_cut_back_;
  std::optional<error> rollback_error_;  // a write failed; cutting back once writes drain
  std::optional<error> offline_;         // fenced after an fsync error
  bool closing_ = false;
  std::function<void(result<void>)> close_handler_;
  boost::asio::steady_timer flush_timer_;
  std::shared_ptr<bool> alive_;  // handlers of the backend check it after destruction
  // Segments retention deleted: their files stay held (segment::hold_files) until the backend
  // closes them, so freeing up to segment.bytes of blocks never runs on this thread. A reader's
  // slice may still have the .log; its close must not be the last, so the files wait for it.
  struct retired_segment {
    std::shared_ptr<log_file> log;
    std::vector<int> held;
  };
  std::vector<retired_segment> retired_;
  // A deleted segment's .log kept to be written over by the next roll (recycle_segments), with
  // its descriptor while a reader may still hold it (null: none can).
  struct recyclable_file {
    std::filesystem::path path;
    std::shared_ptr<log_file> old;
    bool told_cached = false;  // a roll logged that it had too much cached to evict inline
  };
  std::optional<recyclable_file> recyclable_;
  bool in_page_cache_only_ = false;  // the directory is on tmpfs (files_live_in_page_cache)
  // A write in flight that ends with zeros finishing its last page in a recycled file
  // (start_write): a write starting before `to` waits for it, as the backend does not order
  // writes among themselves. cut_to: the file was cut to its batches meanwhile, at that end.
  struct padding_write {
    std::shared_ptr<log_file> file;
    std::uint64_t to;
    std::optional<std::uint64_t> cut_to;
  };
  std::optional<padding_write> padding_;
};

}  // namespace sluice
