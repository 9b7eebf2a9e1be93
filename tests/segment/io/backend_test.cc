// Behaviour every real backend (io_uring and pwrite) must show; each case runs on both.

#include "segment/io/backend.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/segment/io/io_test_util.h"

namespace sluice::io::test {
namespace {

struct fixture {
  explicit fixture(backend_kind kind) : io(make_backend(ctx, kind)) {}
  boost::asio::io_context ctx;
  temp_dir dir;
  std::unique_ptr<backend> io;
};

TEST_CASE_TEMPLATE("many concurrent writes at distinct positions land byte-exact", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  std::vector<std::vector<std::byte>> chunks;
  std::vector<std::byte> expected;
  for (std::uint32_t i = 0; i < 300; ++i) {
    chunks.push_back(pattern(1 + (i * 977) % 9000, i));
    expected.insert(expected.end(), chunks.back().begin(), chunks.back().end());
  }
  std::uint64_t pos = 0;
  int completed = 0;
  for (const auto& chunk : chunks) {
    f.io->async_write_at(log.fd(), pos, chunk, "00.log", [&, size = chunk.size()](auto r) {
      REQUIRE(r.has_value());
      CHECK(*r == size);
      ++completed;
    });
    pos += chunk.size();
  }
  f.ctx.run();
  CHECK(completed == 300);
  std::vector<std::byte> back(expected.size() + 100);
  auto n = f.io->read_at(log.fd(), 0, back, "00.log");
  REQUIRE(n.has_value());
  REQUIRE(*n == expected.size());
  back.resize(*n);
  CHECK(back == expected);
}

TEST_CASE_TEMPLATE("handlers run on the io_context thread and never inside the starting call", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto loop_thread = std::this_thread::get_id();
  const auto data = pattern(4096, 1);
  bool starting = false;
  int ran = 0;
  auto check_context = [&] {
    CHECK_FALSE(starting);
    CHECK(std::this_thread::get_id() == loop_thread);
    ++ran;
  };
  starting = true;
  f.io->async_write_at(log.fd(), 0, data, "00.log", [&](auto) { check_context(); });
  f.io->async_datasync(log.fd(), "00.log", [&](auto) { check_context(); });
  f.io->async_write_at(-1, 0, data, "bad fd", [&](auto) { check_context(); });  // fails
  starting = false;
  f.ctx.run();
  CHECK(ran == 3);
}

TEST_CASE_TEMPLATE("datasync after writes completes successfully", K, SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(64 * 1024, 2);
  std::vector<std::string> events;
  f.io->async_write_at(log.fd(), 0, data, "00.log", [&](result<std::size_t> w) {
    REQUIRE(w.has_value());
    events.push_back("written");
    f.io->async_datasync(log.fd(), "00.log", [&](result<void> s) {
      CHECK(s.has_value());
      events.push_back("synced");
    });
  });
  f.ctx.run();
  CHECK(events == std::vector<std::string>{"written", "synced"});
  CHECK(f.io->datasync(log.fd(), "00.log").has_value());
  CHECK(contents(log.fd()) == data);
}

TEST_CASE_TEMPLATE("a write to a read-only fd fails with EBADF and names the file and position", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  { file create(f.dir / "00.log", O_RDWR | O_CREAT); }
  file read_only(f.dir / "00.log", O_RDONLY);
  const auto data = pattern(100, 3);
  std::optional<result<std::size_t>> outcome;
  f.io->async_write_at(read_only.fd(), 12345, data, "00.log", [&](auto r) { outcome = r; });
  f.ctx.run();
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code ==
        boost::system::error_code(EBADF, boost::system::system_category()));
  CHECK(outcome->error().detail.find("00.log") != std::string::npos);
  CHECK(outcome->error().detail.find("position 12345") != std::string::npos);
}

TEST_CASE_TEMPLATE("datasync of a bad fd fails with EBADF and names the file", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  std::optional<result<void>> outcome;
  f.io->async_datasync(-1, "gone.log", [&](result<void> r) { outcome = r; });
  f.ctx.run();
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code.value() == EBADF);
  CHECK(outcome->error().detail.find("gone.log") != std::string::npos);
  CHECK(f.io->datasync(-1, "gone.log").error().code.value() == EBADF);
}

TEST_CASE_TEMPLATE("fsync of a bad fd fails with EBADF and says fsync, not fdatasync", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  std::optional<result<void>> outcome;
  f.io->async_fsync(-1, "some/dir", [&](result<void> r) { outcome = r; });
  f.ctx.run();
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code.value() == EBADF);
  CHECK(outcome->error().detail.find("fsync some/dir") != std::string::npos);
  CHECK(outcome->error().detail.find("fdatasync") == std::string::npos);
}

TEST_CASE_TEMPLATE("writeback started right behind a write runs after it and succeeds", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(1 << 20, 7);
  std::vector<std::string> events;
  f.io->async_write_at(log.fd(), 0, data, "00.log", [&](result<std::size_t> w) {
    CHECK(w.has_value());
    events.push_back("written");
  });
  f.io->async_start_writeback(log.fd(), 0, data.size(), "00.log", [&](result<void> r) {
    CHECK(r.has_value());
    events.push_back("writeback started");
  });
  f.io->async_datasync(log.fd(), "00.log", [&](result<void> r) {
    CHECK(r.has_value());
    events.push_back("synced");
  });
  f.ctx.run();
  CHECK(events == std::vector<std::string>{"written", "writeback started", "synced"});
  CHECK(contents(log.fd()) == data);
}

TEST_CASE_TEMPLATE("writeback of a bad fd fails with EBADF and names the call and the file", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  std::optional<result<void>> outcome;
  f.io->async_start_writeback(-1, 0, 4096, "gone.log", [&](result<void> r) { outcome = r; });
  f.ctx.run();
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code.value() == EBADF);
  CHECK(outcome->error().detail.find("sync_file_range") != std::string::npos);
  CHECK(outcome->error().detail.find("gone.log") != std::string::npos);
}

// RLIMIT_FSIZE makes the kernel write only up to the limit (a real short write) and refuse the
// rest with EFBIG: the backend must continue at the advanced position and report that error.
TEST_CASE_TEMPLATE("a short write is continued at the advanced position", K, SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(10000, 4);
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::optional<result<std::size_t>> outcome;
  f.io->async_write_at(log.fd(), 0, data, "00.log", [&](auto r) { outcome = r; });
  f.ctx.run();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code.value() == EFBIG);
  CHECK(outcome->error().detail.find("position 4096 (4096 of 10000 bytes written)") !=
        std::string::npos);
  CHECK(contents(log.fd()) == std::vector(data.begin(), data.begin() + 4096));
}

TEST_CASE_TEMPLATE("a gathered write lands its buffers back to back", K, SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  std::vector<std::vector<std::byte>> parts;
  std::vector<std::byte> expected;
  for (std::uint32_t i = 0; i < 40; ++i) {
    parts.push_back(pattern(i == 7 ? 0 : 1 + (i * 4099) % 70000, 100 + i));
    expected.insert(expected.end(), parts.back().begin(), parts.back().end());
  }
  std::vector<std::span<const std::byte>> buffers(parts.begin(), parts.end());
  std::optional<result<std::size_t>> outcome;
  f.io->async_write_at(log.fd(), 0, write_buffers(buffers), "00.log", [&](auto r) { outcome = r; });
  buffers.clear();  // the list of buffers need not outlive the call
  f.ctx.run();
  REQUIRE(outcome.has_value());
  CHECK(outcome->value() == expected.size());
  CHECK(contents(log.fd()) == expected);
}

// The ordering the partition log relies on to start a write and its fdatasync together: each
// sync's handler runs after the handlers of every write started before it.
TEST_CASE_TEMPLATE("a datasync started right behind a write runs after it", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(512 * 1024, 9);
  int written = 0;
  std::vector<int> written_when_synced;
  for (std::size_t round = 0; round < 20; ++round) {
    f.io->async_write_at(log.fd(), round * data.size(), data, "00.log", [&](auto r) {
      REQUIRE(r.has_value());
      ++written;
    });
    f.io->async_datasync(log.fd(), "00.log",
                         [&](auto r) { written_when_synced.push_back(r ? written : -1); });
  }
  f.ctx.run();
  REQUIRE(written_when_synced.size() == 20);
  for (std::size_t i = 0; i < written_when_synced.size(); ++i) {
    CHECK(written_when_synced[i] >= static_cast<int>(i) + 1);
  }
}

TEST_CASE_TEMPLATE("a datasync started while writes are in flight waits for them", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(256 * 1024, 10);
  int written = 0;
  std::vector<int> written_when_synced;
  for (std::size_t i = 0; i < 8; ++i) {
    f.io->async_write_at(log.fd(), i * data.size(), data, "00.log", [&](auto r) {
      REQUIRE(r.has_value());
      ++written;
    });
  }
  f.ctx.poll_one();  // io_uring: the writes are in the kernel; pwrite: the worker has them
  f.io->async_datasync(log.fd(), "00.log",
                       [&](auto r) { written_when_synced.push_back(r ? written : -1); });
  f.io->async_write_at(log.fd(), 8 * data.size(), data, "00.log", [&](auto) { ++written; });
  f.io->async_datasync(log.fd(), "00.log",
                       [&](auto r) { written_when_synced.push_back(r ? written : -1); });
  f.ctx.run();
  REQUIRE(written_when_synced.size() == 2);
  CHECK(written_when_synced[0] >= 8);
  CHECK(written_when_synced[1] == 9);
}

TEST_CASE_TEMPLATE("a datasync behind a write that fails still runs, after it", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  { file create(f.dir / "00.log", O_RDWR | O_CREAT); }
  file read_only(f.dir / "00.log", O_RDONLY);  // writes fail with EBADF; fdatasync works
  const auto data = pattern(100, 11);
  std::vector<std::string> events;
  f.io->async_write_at(read_only.fd(), 0, data, "00.log", [&](auto r) {
    CHECK(r.has_error());
    events.push_back("write failed");
  });
  f.io->async_datasync(read_only.fd(), "00.log", [&](auto r) {
    CHECK(r.has_value());
    events.push_back("synced");
  });
  f.ctx.run();
  CHECK(events == std::vector<std::string>{"write failed", "synced"});
}

TEST_CASE_TEMPLATE("a datasync behind a short write runs once the write has finished", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(10000, 12);
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::vector<std::string> events;
  f.io->async_write_at(log.fd(), 0, data, "00.log", [&](auto r) {
    CHECK(r.has_error());
    events.push_back("write failed");
  });
  f.io->async_datasync(log.fd(), "00.log", [&](auto r) {
    CHECK(r.has_value());
    events.push_back("synced");
  });
  f.ctx.run();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  CHECK(events == std::vector<std::string>{"write failed", "synced"});
  CHECK(contents(log.fd()).size() == 4096);
}

TEST_CASE_TEMPLATE("read_at returns the bytes read: fewer at end of file, 0 past it", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(1000, 5);
  REQUIRE(::pwrite(log.fd(), data.data(), data.size(), 0) == 1000);
  std::vector<std::byte> out(600);
  CHECK(f.io->read_at(log.fd(), 0, out, "00.log").value() == 600);
  CHECK(std::equal(out.begin(), out.end(), data.begin()));
  CHECK(f.io->read_at(log.fd(), 600, out, "00.log").value() == 400);
  CHECK(std::equal(out.begin(), out.begin() + 400, data.begin() + 600));
  CHECK(f.io->read_at(log.fd(), 1000, out, "00.log").value() == 0);
  CHECK(f.io->read_at(log.fd(), 5000, out, "00.log").value() == 0);
  auto bad = f.io->read_at(-1, 77, out, "gone.log");
  REQUIRE(bad.has_error());
  CHECK(bad.error().code.value() == EBADF);
  CHECK(bad.error().detail.find("position 77") != std::string::npos);
}

TEST_CASE_TEMPLATE("truncate cuts the file to the given size", K, SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(1000, 6);
  REQUIRE(::pwrite(log.fd(), data.data(), data.size(), 0) == 1000);
  REQUIRE(f.io->truncate(log.fd(), 300, "00.log").has_value());
  CHECK(contents(log.fd()) == std::vector(data.begin(), data.begin() + 300));
  CHECK(f.io->truncate(-1, 0, "gone.log").error().code.value() == EBADF);
}

TEST_CASE_TEMPLATE("writes started from handlers complete too", K, SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(50 * 100, 7);
  std::size_t next = 0;
  std::function<void(result<std::size_t>)> write_next = [&](result<std::size_t> r) {
    REQUIRE(r.has_value());
    if (++next == 50) return;
    f.io->async_write_at(log.fd(), next * 100, std::span(data).subspan(next * 100, 100), "00.log",
                         write_next);
  };
  f.io->async_write_at(log.fd(), 0, std::span(data).first(100), "00.log", write_next);
  f.ctx.run();
  CHECK(next == 50);
  CHECK(contents(log.fd()) == data);
}

TEST_CASE_TEMPLATE("close_later closes the descriptor before the io_context runs out of work", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    file opened(f.dir / "00.log", O_RDWR | O_CREAT);
    fds.push_back(::dup(opened.fd()));
    REQUIRE(fds.back() >= 0);
  }
  std::filesystem::remove(f.dir / "00.log");  // the last close frees the file, off this thread
  for (const int fd : fds) f.io->close_later(fd, "00.log");
  f.ctx.run();
  for (const int fd : fds) {
    errno = 0;
    CHECK(::fcntl(fd, F_GETFD) == -1);
    CHECK(errno == EBADF);
  }
}

// A close dropped at shutdown would leak its descriptor, and keep a deleted file's blocks.
TEST_CASE_TEMPLATE("destroying the backend still closes every descriptor given to close_later", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(256 * 1024, 8);
  for (std::uint64_t i = 0; i < 32; ++i) {  // keeps the pwrite worker busy past destruction
    f.io->async_write_at(log.fd(), i * data.size(), data, "00.log", [](auto) {});
  }
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    fds.push_back(::dup(log.fd()));
    REQUIRE(fds.back() >= 0);
    f.io->close_later(fds.back(), "00.log");
  }
  f.io.reset();
  for (const int fd : fds) {
    errno = 0;
    CHECK(::fcntl(fd, F_GETFD) == -1);
    CHECK(errno == EBADF);
  }
}

TEST_CASE_TEMPLATE("destroying the backend with writes pending runs none of their handlers", K,
                   SLUICE_REAL_BACKENDS) {
  fixture f(K::kind);
  file log(f.dir / "00.log", O_RDWR | O_CREAT);
  const auto data = pattern(256 * 1024, 8);
  int ran = 0;
  for (std::uint64_t i = 0; i < 32; ++i) {
    f.io->async_write_at(log.fd(), i * data.size(), data, "00.log", [&](auto) { ++ran; });
  }
  f.ctx.poll_one();  // io_uring: the batch is submitted; pwrite: the worker is busy
  f.io.reset();
  f.ctx.restart();
  f.ctx.run();      // returns: nothing left waiting
  CHECK(ran <= 1);  // at most one ran inside poll_one, before destruction
}

}  // namespace
}  // namespace sluice::io::test
