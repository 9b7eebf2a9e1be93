// syncfs for async_sync_filesystem: which files a syncer serves, and the backends' ordering and
// coalescing of filesystem syncs.

#include "segment/io/filesystem_syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "segment/io/pwrite_backend.h"
#include "segment/io/uring_backend.h"
#include "tests/segment/io/io_test_util.h"

namespace sluice::io::test {
namespace {

// A syncfs that answers with these errnos in turn (0: success), for the error paths a real
// filesystem will not produce on demand.
std::vector<int> scripted_errnos;
std::size_t scripted_calls = 0;
int scripted_syncfs(int /*fd*/) {
  const int e = scripted_errnos.at(scripted_calls++);
  if (e == 0) return 0;
  errno = e;
  return -1;
}
void script_syncfs(std::vector<int> errnos) {
  scripted_errnos = std::move(errnos);
  scripted_calls = 0;
}

// A syncfs whose first call takes half a second, as one flushing a large cache does: long
// enough for every other request of a test to queue up behind it, however fast the disk.
std::atomic<int> slow_syncfs_calls{0};
int slow_first_syncfs(int fd) {
  if (slow_syncfs_calls++ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return ::syncfs(fd);
}

TEST_CASE("a syncer serves the files of its root's filesystem; others get their own sync") {
  temp_dir dir;
  auto syncer = filesystem_syncer::open(dir.path());
  REQUIRE(syncer != nullptr);  // Linux >= 5.8 (Debian 12 ships 6.1)
  file log(dir / "00.log", O_RDWR | O_CREAT);
  file subdir(dir.path(), O_RDONLY | O_DIRECTORY);
  CHECK(filesystem_sync_kind(syncer.get(), log.fd()) == sync_kind::filesystem);
  CHECK(filesystem_sync_kind(syncer.get(), subdir.fd()) == sync_kind::filesystem);
  file elsewhere("/proc/self/stat", O_RDONLY);  // procfs: another filesystem
  CHECK(filesystem_sync_kind(syncer.get(), elsewhere.fd()) == sync_kind::data);
  file elsewhere_dir("/proc/self", O_RDONLY | O_DIRECTORY);
  CHECK(filesystem_sync_kind(syncer.get(), elsewhere_dir.fd()) == sync_kind::full);
  CHECK(filesystem_sync_kind(syncer.get(), -1) == sync_kind::data);
  // Without a syncer: fdatasync for files, fsync for directories.
  CHECK(filesystem_sync_kind(nullptr, log.fd()) == sync_kind::data);
  CHECK(filesystem_sync_kind(nullptr, subdir.fd()) == sync_kind::full);
  CHECK(syncer->sync() == 0);
}

TEST_CASE("a syncer cannot be made for a root that does not exist") {
  temp_dir dir;
  CHECK(filesystem_syncer::open(dir / "missing") == nullptr);
}

TEST_CASE("an interrupted syncfs is made again; after a failure every sync fails, uncalled") {
  temp_dir dir;
  script_syncfs({EINTR, 0, EIO, 0});
  auto syncer = filesystem_syncer::open(dir.path(), &scripted_syncfs);
  REQUIRE(syncer != nullptr);
  CHECK(syncer->sync() == 0);
  CHECK(syncer->calls() == 2);
  CHECK(syncer->sync() == -EIO);
  CHECK(syncer->calls() == 3);
  // The filesystem lost pages of some file: nothing may be called durable again, even though
  // the next syncfs would succeed.
  CHECK(syncer->sync() == -EIO);
  CHECK(syncer->calls() == 3);
}

struct syncer_fixture {
  // With the directory as sync root: filesystem syncs are syncfs calls (`call`).
  explicit syncer_fixture(backend_kind kind, filesystem_syncer::syncfs_call call = &::syncfs) {
    auto owned = filesystem_syncer::open(dir.path(), call);
    REQUIRE(owned != nullptr);
    syncer = owned.get();
    if (kind == backend_kind::pwrite) {
      io = std::make_unique<pwrite_backend>(ctx, std::move(owned));
    } else {
      auto ring = uring_backend::create(ctx, {.syncer = std::move(owned)});
      REQUIRE(ring.has_value());
      io = std::move(*ring);
    }
  }
  boost::asio::io_context ctx;
  temp_dir dir;
  filesystem_syncer* syncer = nullptr;  // owned by io
  std::unique_ptr<backend> io;
};

TEST_CASE_TEMPLATE("a filesystem sync runs after the writes started before it", K,
                   SLUICE_REAL_BACKENDS) {
  syncer_fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(256 * 1024, 3);
  int written = 0;
  std::vector<int> written_when_synced;
  for (std::size_t round = 0; round < 10; ++round) {
    for (std::size_t i = 0; i < 4; ++i) {
      f.io->async_write_at(log.fd(), (round * 4 + i) * data.size(), data, "00.log", [&](auto r) {
        REQUIRE(r.has_value());
        ++written;
      });
    }
    f.io->async_sync_filesystem(log.fd(), "00.log", [&](result<void> r) {
      CHECK(r.has_value());
      written_when_synced.push_back(written);
    });
  }
  f.ctx.run();
  REQUIRE(written_when_synced.size() == 10);
  for (std::size_t i = 0; i < written_when_synced.size(); ++i) {
    CHECK(written_when_synced[i] >= static_cast<int>(i + 1) * 4);
  }
  CHECK(contents(log.fd()).size() == 40 * data.size());
}

TEST_CASE_TEMPLATE("filesystem syncs of many files all complete, each after its own writes", K,
                   SLUICE_REAL_BACKENDS) {
  slow_syncfs_calls = 0;
  syncer_fixture f(K::kind, &slow_first_syncfs);
  std::vector<std::unique_ptr<file>> logs;
  std::vector<int> written(200, 0);
  std::vector<int> written_when_synced(200, -1);
  const auto data = pattern(3000, 4);
  for (std::size_t i = 0; i < 200; ++i) {
    logs.push_back(std::make_unique<file>(f.dir / (std::to_string(i) + ".log"), O_RDWR | O_CREAT));
    const int fd = logs.back()->fd();
    f.io->async_write_at(fd, 0, data, "log", [&written, i](auto r) {
      REQUIRE(r.has_value());
      ++written[i];
    });
    f.io->async_sync_filesystem(fd, "log", [&, i](result<void> r) {
      CHECK(r.has_value());
      written_when_synced[i] = written[i];
    });
  }
  f.ctx.run();
  for (std::size_t i = 0; i < 200; ++i) CHECK(written_when_synced[i] == 1);
  // Requests that wait together share a syncfs: 200 asked in one turn queue up behind the
  // first, slow syncfs, and the ones after it are served together.
  CHECK(f.syncer->calls() >= 1);
  CHECK(f.syncer->calls() <= 5);
}

TEST_CASE_TEMPLATE("a failed syncfs fails every request it served and every later one", K,
                   SLUICE_REAL_BACKENDS) {
  script_syncfs({EIO, 0, 0});
  syncer_fixture f(K::kind, &scripted_syncfs);
  std::vector<std::unique_ptr<file>> logs;
  std::vector<std::optional<result<void>>> outcomes(20);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    logs.push_back(std::make_unique<file>(f.dir / (std::to_string(i) + ".log"), O_RDWR | O_CREAT));
    f.io->async_sync_filesystem(logs.back()->fd(), std::to_string(i) + ".log",
                                [&outcomes, i](result<void> r) { outcomes[i] = r; });
  }
  f.ctx.run();
  std::optional<result<void>> later;
  f.io->async_sync_filesystem(logs.front()->fd(), "0.log", [&](result<void> r) { later = r; });
  f.ctx.restart();
  f.ctx.run();
  outcomes.push_back(later);
  for (const auto& outcome : outcomes) {
    REQUIRE(outcome.has_value());
    REQUIRE(outcome->has_error());
    CHECK(outcome->error().code.value() == EIO);
    CHECK(outcome->error().detail.find("syncfs") != std::string::npos);
  }
  CHECK(f.syncer->calls() == 1);
}

TEST_CASE_TEMPLATE("without a sync root a filesystem sync is an fdatasync of the file", K,
                   SLUICE_REAL_BACKENDS) {
  boost::asio::io_context ctx;
  temp_dir dir;
  auto io = make_backend(ctx, K::kind);
  std::optional<result<void>> outcome;
  io->async_sync_filesystem(-1, "gone.log", [&](result<void> r) { outcome = r; });
  ctx.run();
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code.value() == EBADF);
  CHECK(outcome->error().detail.find("fdatasync gone.log") != std::string::npos);
}

TEST_CASE_TEMPLATE("a file outside the sync root's filesystem gets an fdatasync of its own", K,
                   SLUICE_REAL_BACKENDS) {
  syncer_fixture f(K::kind);
  int ends[2];
  REQUIRE(::pipe(ends) == 0);  // pipefs: fdatasync refuses it (EINVAL), a syncfs would not
  std::optional<result<void>> outcome;
  f.io->async_sync_filesystem(ends[1], "pipe", [&](result<void> r) { outcome = r; });
  f.ctx.run();
  ::close(ends[0]);
  ::close(ends[1]);
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code.value() == EINVAL);
  CHECK(outcome->error().detail.find("fdatasync pipe") != std::string::npos);
}

}  // namespace
}  // namespace sluice::io::test
