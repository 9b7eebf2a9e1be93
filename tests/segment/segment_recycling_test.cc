// Recycled segment files: under flush=always retention keeps one deleted segment's .log, and the
// next roll writes the new segment over it (partition_log::recycle_segments).

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <thread>
#include <vector>

#include "log_fixture.h"
#include "protocol/record_batch.h"
#include "segment/page_release.h"
#include "segment/segment.h"

namespace sluice::test {
namespace {

namespace fs = std::filesystem;

// Sets one of partition_log's static settings for a test and puts it back however it ends.
template <class T>
class scoped_setting {
 public:
  scoped_setting(T& setting, T value) : setting_(setting), saved_(setting) { setting_ = value; }
  ~scoped_setting() { setting_ = saved_; }
  scoped_setting(const scoped_setting&) = delete;
  scoped_setting& operator=(const scoped_setting&) = delete;

 private:
  T& setting_;
  T saved_;
};

// The tests' segments are 4 KiB: small enough to recycle while this guard lives, whatever the
// free space of the machine's disk.
struct recycle_small_files {
  scoped_setting<std::uint64_t> min_bytes{partition_log::recycle_min_bytes, 0};
  scoped_setting<std::uint64_t> min_free{partition_log::recycle_min_free_bytes, 0};
};

log_config small_segments_no_retention_floor() {
  log_config cfg;
  cfg.segment_bytes = 4096;
  cfg.retention_bytes = 0;
  return cfg;
}

std::vector<fs::path> files_with_extension(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ext) found.push_back(entry.path());
  }
  return found;
}

// Which file a name is: a recycled file keeps its inode through the renames.
ino_t inode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_ino;
}

fs::path active_log_path(const log_fixture& f) {
  return f.log_dir() / (segment::file_stem(f.log->segment_bases().back()) + ".log");
}

// Appends one-record batches of `value_size` bytes until the log has rolled `rolls` more times.
byte_buffer append_until_rolled(log_fixture& f, std::size_t rolls, int seed,
                                std::size_t value_size = 400) {
  byte_buffer appended;
  const std::size_t target = f.log->segment_count() + rolls;
  while (f.log->segment_count() < target) {
    auto batch = make_batch(1, value_size, static_cast<std::uint64_t>(seed++));
    auto r = f.append(batch);
    REQUIRE(r.has_value());
    set_base_offset(batch, r->base_offset);  // as the log stamps it
    set_partition_leader_epoch(batch, leader_epoch{0});
    appended.insert(appended.end(), batch.begin(), batch.end());
  }
  return appended;
}

// Fills 4 KiB segments and lets retention delete all but the active one.
void fill_and_retire(log_fixture& f) {
  f.open(small_segments_no_retention_floor());
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  auto deleted = f.log->enforce_retention();
  REQUIRE(deleted.has_value());
  REQUIRE(*deleted > 1);
}

}  // namespace

TEST_CASE("retention keeps one deleted segment's file, and the next roll writes over it") {
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  // One .log kept, the others deleted with their indexes.
  auto kept = files_with_extension(f.log_dir(), ".recycle");
  REQUIRE(kept.size() == 1);
  const std::uint64_t kept_size = fs::file_size(kept.front());
  const ino_t kept_inode = inode_of(kept.front());
  CHECK(kept_size > 0);
  CHECK(files_with_extension(f.log_dir(), ".log").size() == 1);
  CHECK(files_with_extension(f.log_dir(), ".index").size() == 1);

  const offset first_new = f.log->log_end_offset();
  append_until_rolled(f, 1, 100);
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
  // The active segment is the kept file, still at least as long as it was, its old bytes past
  // the new batches; reads end at the batches.
  CHECK(inode_of(active_log_path(f)) == kept_inode);
  CHECK(fs::file_size(active_log_path(f)) >= kept_size);
  auto tail = f.log->read(f.log->segment_bases().back(), 1 << 20);
  REQUIRE(tail.has_value());
  CHECK(tail->size < kept_size);

  // Everything appended since the roll reads back, and a clean close cuts the old bytes off.
  const byte_buffer before_close = f.read_all(first_new);
  const auto active = active_log_path(f);
  f.close();
  CHECK(fs::file_size(active) == tail->size);
  f.open(small_segments_no_retention_floor());
  CHECK(f.log->last_recovery().clean);
  CHECK_FALSE(f.log->last_recovery().cut_at.has_value());
  CHECK(f.read_all(first_new) == before_close);
}

TEST_CASE("a kept file's pages are evicted off the shard; a roll takes it once none is cached") {
  recycle_small_files guard;
  // Any cached page is too many to evict on the shard.
  const scoped_setting<std::uint64_t> none_inline(partition_log::recycle_inline_release_bytes, 0);
  log_fixture f;
  fill_and_retire(f);
  const auto kept = files_with_extension(f.log_dir(), ".recycle");
  REQUIRE(kept.size() == 1);
  const ino_t kept_inode = inode_of(kept.front());
  // Retention asked the backend to evict it when it kept it.
  CHECK(f.io->drop_ranges().back() ==
        std::pair<std::uint64_t, std::uint64_t>{0, fs::file_size(kept.front())});
  CHECK(f.run_until([&] { return cached_bytes(kept.front()).value() == 0; }));
  {
    std::ifstream in(kept.front(), std::ios::binary);  // a reader brings its pages back
    const std::vector<char> all((std::istreambuf_iterator<char>(in)), {});
    REQUIRE(all.size() == fs::file_size(kept.front()));
  }
  REQUIRE(cached_bytes(kept.front()).value() > 0);

  // This roll leaves the eviction to the backend and makes a new file...
  const auto drops_before = f.io->drop_ranges().size();
  append_until_rolled(f, 1, 100);
  CHECK(fs::exists(kept.front()));
  CHECK(inode_of(active_log_path(f)) != kept_inode);
  const auto& drops = f.io->drop_ranges();
  REQUIRE(drops.size() > drops_before);
  CHECK(std::any_of(drops.begin() + static_cast<long>(drops_before), drops.end(),
                    [&](const auto& range) {
                      return range.first == 0 && range.second == fs::file_size(kept.front());
                    }));
  // ...which evicts them on a thread of its own; the next roll writes over the kept file.
  CHECK(f.run_until([&] { return cached_bytes(kept.front()).value() == 0; }));
  append_until_rolled(f, 1, 200);
  CHECK_FALSE(fs::exists(kept.front()));
  CHECK(inode_of(active_log_path(f)) == kept_inode);
}

TEST_CASE(
    "cached_bytes counts a file's pages in the page cache; release_cached_pages evicts them") {
  log_fixture f;
  const auto file = f.dir.path() / "cached";
  const std::vector<char> bytes(64 * 1024 + 100, 'x');
  {
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const auto cached = cached_bytes(file).value();
  CHECK(cached >= bytes.size());  // whole pages, the last one partly written
  CHECK(cached % 4096 == 0);
  CHECK_FALSE(cached_bytes(f.dir.path() / "missing").has_value());
  if (files_live_in_page_cache(f.dir.path())) return;  // tmpfs: pages that never leave
  {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK(::fdatasync(fd) == 0);  // dirty pages are not evicted
    ::close(fd);
  }
  CHECK(release_cached_pages(file).value());
  CHECK(cached_bytes(file).value() == 0);
}

TEST_CASE("a crash in a recycled segment keeps every acknowledged batch and cuts the old bytes") {
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  const offset first_new = f.log->log_end_offset();
  append_until_rolled(f, 1, 100);
  // Two more batches into the recycled active segment, then a crash.
  for (int i = 0; i < 2; ++i) REQUIRE(f.append(make_batch(1, 400, 200 + i)).has_value());
  const byte_buffer expected = f.read_all(first_new);
  const offset end = f.log->log_end_offset();
  const auto active = active_log_path(f);
  REQUIRE(fs::file_size(active) > f.log->read(f.log->segment_bases().back(), 1 << 20)->size);
  f.crash();

  f.open(small_segments_no_retention_floor());
  CHECK(f.log->log_end_offset() == end);
  CHECK(f.read_all(first_new) == expected);
  // The old segment's bytes are gone from the file: the next appends extend it.
  auto tail = f.log->read(f.log->segment_bases().back(), 1 << 20);
  REQUIRE(tail.has_value());
  CHECK(fs::file_size(active) == tail->size);
  REQUIRE(f.append(make_batch(1, 400, 300)).has_value());
  CHECK(f.log->log_end_offset() == end + 1);
}

TEST_CASE("a deleted segment a reader still holds is not written over") {
  recycle_small_files guard;
  log_fixture f;
  f.open(small_segments_no_retention_floor());
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  // Hold every segment: whichever retention keeps, a reader has it.
  std::vector<log_slice> readers;
  for (offset base : f.log->segment_bases()) {
    auto s = f.log->read(base, 1 << 20);
    REQUIRE(s.has_value());
    readers.push_back(std::move(*s));
  }
  std::vector<byte_buffer> before;
  before.reserve(readers.size());
  for (const auto& s : readers) before.push_back(*s.read_bytes());
  REQUIRE(f.log->enforce_retention().has_value());
  REQUIRE(files_with_extension(f.log_dir(), ".recycle").size() == 1);

  append_until_rolled(f, 2, 100);
  // The new segments were made afresh; the kept file waits, and the readers' bytes are intact.
  CHECK(files_with_extension(f.log_dir(), ".recycle").size() == 1);
  for (std::size_t i = 0; i < readers.size(); ++i) CHECK(*readers[i].read_bytes() == before[i]);

  readers.clear();
  append_until_rolled(f, 1, 200);
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
}

TEST_CASE("under flush=interval retention deletes segments and keeps none") {
  recycle_small_files guard;
  log_fixture f;
  log_config cfg = small_segments_no_retention_floor();
  cfg.flush = *flush_policy::parse("interval:1000");
  f.open(cfg);
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  REQUIRE(f.log->enforce_retention().has_value());
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
}

TEST_CASE("with recycling off, retention deletes every segment file") {
  recycle_small_files guard;
  const scoped_setting<bool> off(partition_log::recycle_segments, false);
  log_fixture f;
  fill_and_retire(f);
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
}

TEST_CASE("a file kept for recycling by the last run is written over by the next roll") {
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  const ino_t kept_inode = inode_of(files_with_extension(f.log_dir(), ".recycle").front());
  f.close();
  f.open(small_segments_no_retention_floor());
  REQUIRE(files_with_extension(f.log_dir(), ".recycle").size() == 1);
  const offset first_new = f.log->log_end_offset();
  const byte_buffer appended = append_until_rolled(f, 1, 100);
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
  CHECK(inode_of(active_log_path(f)) == kept_inode);
  CHECK(f.read_all(first_new) == appended);
}

// A power loss after retention's rename to .recycle was durable but before the next roll's
// rename of it to the new segment's .log was: the kept name holds that (unacknowledged)
// segment's batches, at offsets no deleted segment had.
TEST_CASE("a file kept for recycling that holds offsets past the log start is deleted at open") {
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  const auto kept = files_with_extension(f.log_dir(), ".recycle");
  REQUIRE(kept.size() == 1);
  const auto active = active_log_path(f);
  f.close();
  std::filesystem::copy_file(active, kept.front(),
                             std::filesystem::copy_options::overwrite_existing);
  f.open(small_segments_no_retention_floor());
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
  // The next roll makes a new file; what follows is read back as written.
  const offset first_new = f.log->log_end_offset();
  const byte_buffer appended = append_until_rolled(f, 1, 100);
  CHECK(f.read_all(first_new) == appended);
}

TEST_CASE("a clean open refuses an earlier segment's batches left past a segment's end") {
  // What a recycled file keeps when cutting it to its batches failed at close: batches with
  // offsets below the segment's base, right where the next batch would be.
  log_fixture f;
  f.open(small_segments_no_retention_floor());
  for (int i = 0; i < 12; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  const byte_buffer first_batches = f.read_all(offset{0});
  const offset end = f.log->log_end_offset();
  const byte_buffer expected = f.read_all(f.log->segment_bases().back());
  const auto active = active_log_path(f);
  f.close();
  {
    std::ofstream out(active, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(first_batches.data()),
              static_cast<std::streamsize>(first_batches.size()));
  }
  f.open(small_segments_no_retention_floor());
  CHECK(f.log->log_end_offset() == end);
  CHECK(f.read_all(f.log->segment_bases().back()) == expected);
  CHECK(fs::file_size(active) == expected.size());
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("a log switched to flush=interval deletes the file it kept") {
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  REQUIRE(files_with_extension(f.log_dir(), ".recycle").size() == 1);
  log_config relaxed = small_segments_no_retention_floor();
  relaxed.flush = *flush_policy::parse("interval:1000");
  REQUIRE(f.log->reconfigure(relaxed).has_value());
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
  append_until_rolled(f, 1, 100);
  auto tail = f.log->read(f.log->segment_bases().back(), 1 << 20);
  REQUIRE(tail.has_value());
  CHECK(fs::file_size(active_log_path(f)) == tail->size);
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("a large write into a recycled file ends with zeros to its page's end") {
  // Without them the kernel reads the rest of that page from the disk before copying the write
  // into it: one synchronous read per group commit.
  recycle_small_files guard;
  log_fixture f;
  log_config cfg;
  cfg.segment_bytes = 256 << 10;
  cfg.retention_bytes = 0;
  f.open(cfg);
  for (int i = 0; i < 14; ++i) REQUIRE(f.append(make_batch(1, 40 << 10, i)).has_value());
  REQUIRE(f.log->enforce_retention().has_value());
  REQUIRE(files_with_extension(f.log_dir(), ".recycle").size() == 1);
  const offset first_new = f.log->log_end_offset();
  const byte_buffer appended = append_until_rolled(f, 1, 100, 40 << 10);
  // One more large batch into the recycled segment, past the one that rolled it.
  REQUIRE(f.append(make_batch(1, 40 << 10, 200)).has_value());
  auto tail = f.log->read(f.log->segment_bases().back(), 1 << 20);
  REQUIRE(tail.has_value());
  const std::uint64_t end = tail->size;
  REQUIRE(end % 4096 != 0);
  const std::uint64_t page_end = (end / 4096 + 1) * 4096;
  std::ifstream in(active_log_path(f), std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > page_end);
  CHECK(std::all_of(bytes.begin() + static_cast<long>(end),
                    bytes.begin() + static_cast<long>(page_end), [](char c) { return c == 0; }));
  // Past that page the old segment's bytes are still there: only the page was finished.
  CHECK(std::any_of(bytes.begin() + static_cast<long>(page_end), bytes.end(),
                    [](char c) { return c != 0; }));
  const byte_buffer all = f.read_all(first_new);
  REQUIRE(all.size() > appended.size());
  CHECK(std::equal(appended.begin(), appended.end(), all.begin()));
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("a recycled file a power loss left under its old name is deleted, not trusted") {
  // The roll renamed <old>.recycle to the new segment's .log and wrote its batches; the power
  // failed before the directory's fsync, so the directory still says <old>.log: a name below
  // the log start over batches at or past it, none of them acknowledged.
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  const auto kept = files_with_extension(f.log_dir(), ".recycle").front();
  const offset old_base = *segment::parse_file_name(kept.stem().string() + ".log", ".log");
  const offset start = f.log->log_start_offset();
  REQUIRE(old_base < start);
  const byte_buffer acknowledged = f.read_all(start);
  const offset end = f.log->log_end_offset();
  f.crash();
  fs::remove(kept);
  {
    // The new segment's batches: offsets from the log end on.
    byte_buffer newer = make_batch(2, 400, 99);
    set_base_offset(newer, end);
    std::ofstream out(f.log_dir() / (segment::file_stem(old_base) + ".log"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(newer.data()),
              static_cast<std::streamsize>(newer.size()));
  }
  std::vector<offset> shown;
  auto reopened =
      partition_log::open(f.log_dir(), small_segments_no_retention_floor(), *f.io, f.ctx, f.clk,
                          [&](const batch_header& h) { shown.push_back(h.base_offset); });
  REQUIRE_MESSAGE(reopened.has_value(), (reopened ? "" : reopened.error().message()));
  f.log = std::move(*reopened);
  CHECK(shown.empty());  // no batch of it is a leftover retention deleted
  CHECK(f.log->log_start_offset() == start);
  CHECK(f.log->log_end_offset() == end);
  CHECK(f.read_all(start) == acknowledged);
  CHECK_FALSE(fs::exists(f.log_dir() / (segment::file_stem(old_base) + ".log")));
}

}  // namespace sluice::test

namespace sluice::test {
namespace {

// A connected TCP pair on 127.0.0.1: what a consumer's connection to the broker is.
struct loopback_pair {
  loopback_pair() {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    sender = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::connect(sender, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    receiver = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(receiver >= 0);
    ::close(listener);
  }
  ~loopback_pair() {
    ::close(sender);
    ::close(receiver);
  }
  loopback_pair(const loopback_pair&) = delete;
  loopback_pair& operator=(const loopback_pair&) = delete;

  byte_buffer receive(std::size_t n) const {
    byte_buffer got(n);
    std::size_t have = 0;
    while (have < n) {
      const ssize_t r = ::recv(receiver, got.data() + have, n - have, 0);
      REQUIRE(r > 0);
      have += static_cast<std::size_t>(r);
    }
    return got;
  }
  // A byte each way from every CPU this thread may run on, then back to all of them. A socket
  // buffer read on another CPU than the one that made it is freed later by the maker's network
  // softirq (skb_attempt_defer_free), which a CPU runs only with network activity of its own.
  void ping_from_every_cpu() const {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    REQUIRE(::sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &allowed)) continue;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);
      ping();
    }
    REQUIRE(::sched_setaffinity(0, sizeof allowed, &allowed) == 0);
  }
  // A byte each way.
  void ping() const {
    const char b = 'p';
    char got = 0;
    REQUIRE(::send(sender, &b, 1, 0) == 1);
    REQUIRE(::recv(receiver, &got, 1, 0) == 1);
    REQUIRE(::send(receiver, &b, 1, 0) == 1);
    REQUIRE(::recv(sender, &got, 1, 0) == 1);
  }
  // Whether everything sent was acknowledged by the peer (SIOCOUTQ) within 5 s.
  [[nodiscard]] bool wait_until_acknowledged() const {
    for (int i = 0; i < 500; ++i) {
      int unacknowledged = 0;
      REQUIRE(::ioctl(sender, SIOCOUTQ, &unacknowledged) == 0);
      if (unacknowledged == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  int sender = -1;
  int receiver = -1;
};

}  // namespace

TEST_CASE("bytes sendfile queued to a socket are not written over by a recycled segment") {
  // sendfile queues the file's page cache pages themselves; the consumer reads them later.
  recycle_small_files guard;
  log_fixture f;
  f.open(small_segments_no_retention_floor());
  for (int i = 0; i < 20; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  loopback_pair conn;
  byte_buffer sent;
  {
    auto slice = f.log->read(offset{0}, 1 << 20);  // the first segment, which retention keeps
    REQUIRE(slice.has_value());
    sent = *slice->read_bytes();
    off_t pos = static_cast<off_t>(slice->position.value);
    REQUIRE(::sendfile(conn.sender, slice->file->fd(), &pos, slice->size) ==
            static_cast<ssize_t>(slice->size));
  }  // the fetch is done with its slice; the socket still has the pages
  REQUIRE(f.log->enforce_retention().has_value());
  REQUIRE(files_with_extension(f.log_dir(), ".recycle").size() == 1);

  append_until_rolled(f, 2, 100);
  CHECK(files_with_extension(f.log_dir(), ".recycle").size() == 1);  // not written over yet
  CHECK(conn.receive(sent.size()) == sent);

  // Once the consumer has read them and the sender has its acknowledgement (its queue holds
  // the pages until then), a roll writes over the file: not always the next one, as the kernel
  // may free the received buffers a little later (on the CPU that made them). A busy machine
  // can delay that by more than a hundred rolls, so the wait is bounded by time.
  CHECK(conn.wait_until_acknowledged());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; !files_with_extension(f.log_dir(), ".recycle").empty() &&
                  std::chrono::steady_clock::now() < deadline;
       ++i) {
    conn.ping_from_every_cpu();
    append_until_rolled(f, 1, 200 + i);
  }
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
}

namespace {

constexpr int overlay_unavailable = 77;

// In a mount namespace of its own (the caller is a forked child): an overlay mounted over
// directories in `dir`, a file written through it, part of it queued to a socket with sendfile
// and left unread. 0: the socket's pages are counted and not released.
int count_pages_a_socket_holds_on_overlayfs(const fs::path& dir) {
  if (::unshare(CLONE_NEWNS) != 0) return overlay_unavailable;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return overlay_unavailable;
  }
  for (const char* sub : {"lower", "upper", "work", "merged"}) fs::create_directory(dir / sub);
  const std::string options = "lowerdir=" + (dir / "lower").string() +
                              ",upperdir=" + (dir / "upper").string() +
                              ",workdir=" + (dir / "work").string();
  const auto merged = dir / "merged";
  if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) {
    return overlay_unavailable;
  }
  const auto file = merged / "segment.log";
  const std::vector<char> bytes(256 * 1024, 'x');
  std::ofstream(file, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fdatasync(fd) != 0) return 2;
  const loopback_pair conn;
  off_t pos = 0;
  if (::sendfile(conn.sender, fd, &pos, 32 * 1024) != 32 * 1024) return 3;
  ::close(fd);
  const auto released = release_cached_pages(file);
  const auto cached = cached_bytes(file);
  if (!released || !cached) return 4;
  return !*released && *cached > 0 ? 0 : 5;
}

}  // namespace

// overlayfs (a container's file system) keeps a file's pages in the file beneath: cachestat of
// the overlay file counts none of them, so page_release asks mincore there.
TEST_CASE("on overlayfs the pages a socket holds are counted, so a kept file waits") {
  temp_dir dir;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 6;
    try {
      code = count_pages_a_socket_holds_on_overlayfs(dir.path());
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == overlay_unavailable) {
    MESSAGE("skipped: no mount namespace or overlayfs here (needs root)");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("a crash after a roll whose cut failed keeps the acknowledged segments after it") {
  // The rolled .log keeps the recycled file's old bytes past its batches; recovery cuts them,
  // and the next segment, which starts right where its batches end, stays. (Large batches: no
  // zeros ahead, whose own cut would take the injected fault.)
  recycle_small_files guard;
  log_fixture f;
  log_config cfg = small_segments_no_retention_floor();
  cfg.segment_bytes = 256 << 10;
  cfg.segment_ms = std::chrono::hours(1);
  f.open(cfg);
  for (int i = 0; i < 14; ++i) REQUIRE(f.append(make_batch(1, 40 << 10, i)).has_value());
  REQUIRE(f.log->enforce_retention().has_value());
  REQUIRE(files_with_extension(f.log_dir(), ".recycle").size() == 1);
  append_until_rolled(f, 1, 100, 40 << 10);  // into the recycled file
  // Fewer batches than it had, so old bytes stay past them when segment.ms rolls it; its cut
  // at that roll fails.
  REQUIRE(f.append(make_batch(1, 40 << 10, 150)).has_value());
  f.io->fail_next_truncate(EIO);
  f.clk.advance(std::chrono::hours(2));
  append_until_rolled(f, 1, 200, 40 << 10);
  for (int i = 0; i < 3; ++i) REQUIRE(f.append(make_batch(1, 40 << 10, 300 + i)).has_value());
  const offset start = f.log->log_start_offset();
  const offset end = f.log->log_end_offset();
  const byte_buffer acknowledged = f.read_all(start);
  f.crash();

  f.open(cfg);
  CHECK(f.log->log_end_offset() == end);
  CHECK(f.read_all(start) == acknowledged);
  CHECK_FALSE(f.log->last_recovery().cut_at.has_value());
}

TEST_CASE("a recycled segment whose index cannot be made leaves no .log with old batches") {
  recycle_small_files guard;
  log_fixture f;
  fill_and_retire(f);
  // A directory where the next segment's .index goes: opening the index fails.
  const offset next_base = f.log->log_end_offset();
  fs::create_directories(f.log_dir() / (segment::file_stem(next_base) + ".index") / "x");
  const offset end = f.log->log_end_offset();
  for (int i = 0; i < 20 && f.log->log_end_offset() == end; ++i) {
    (void)f.append(make_batch(2, 400, 500 + i));
  }
  CHECK_FALSE(fs::exists(f.log_dir() / (segment::file_stem(next_base) + ".log")));
  fs::remove_all(f.log_dir() / (segment::file_stem(next_base) + ".index"));
  f.close();
  f.open(small_segments_no_retention_floor());  // opens: no file claims offsets it lacks
  CHECK(f.log->log_end_offset() >= end);
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("on a file system short of free space retention keeps no file") {
  const scoped_setting<std::uint64_t> short_of_space(partition_log::recycle_min_free_bytes,
                                                     std::numeric_limits<std::uint64_t>::max());
  const scoped_setting<std::uint64_t> small(partition_log::recycle_min_bytes, 0);
  log_fixture f;
  fill_and_retire(f);
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
}

// tmpfs gives back no page (a kept file would wait for ever, and hold memory) and allocates no
// block, so nothing is kept there, and a kept file found at open is deleted.
TEST_CASE("on tmpfs retention keeps no file") {
  const fs::path shm = "/dev/shm";
  if (!fs::is_directory(shm) || !files_live_in_page_cache(shm)) {
    MESSAGE("no tmpfs at /dev/shm on this machine: not checked");
    return;
  }
  recycle_small_files guard;
  log_fixture f(shm);
  fill_and_retire(f);
  CHECK(files_with_extension(f.log_dir(), ".recycle").empty());
  CHECK(files_with_extension(f.log_dir(), ".log").size() == 1);
  f.close();
  const fs::path left = f.log_dir() / (segment::file_stem(offset{0}) + ".recycle");
  std::ofstream(left) << std::string(4096, 'x');
  f.open(small_segments_no_retention_floor());
  CHECK_FALSE(fs::exists(left));
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("old bytes cut from one segment do not hide damage found in an earlier one") {
  log_fixture f;
  f.open(small_segments_no_retention_floor());
  for (int i = 0; i < 16; ++i) REQUIRE(f.append(make_batch(2, 400, i)).has_value());
  const auto bases = f.log->segment_bases();
  REQUIRE(bases.size() >= 3);
  const byte_buffer first_batches = f.read_all(offset{0});
  const auto path_of = [&](offset base) {
    return f.log_dir() / (segment::file_stem(base) + ".log");
  };
  f.close();
  {  // damage in the first segment: its last batch's magic byte (offset 16 of the batch)
    const std::uint64_t size = fs::file_size(path_of(bases[0]));
    std::fstream io(path_of(bases[0]), std::ios::binary | std::ios::in | std::ios::out);
    const std::uint64_t last_batch = size - make_batch(2, 400, 0).size();
    io.seekp(static_cast<std::streamoff>(last_batch + 16));
    io.put(static_cast<char>(7));
  }
  {  // an earlier segment's batches left past the second segment's end
    std::ofstream out(path_of(bases[1]), std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(first_batches.data()), 2000);
  }
  f.open(small_segments_no_retention_floor());
  const auto& report = f.log->last_recovery();
  REQUIRE(report.cut_at.has_value());
  CHECK(*report.cut_at < bases[1]);  // where the first segment's damage cut it
}

}  // namespace sluice::test
