// io_uring specifics: batched submission, the overflow queue, destruction with ops in flight,
// ops the kernel cancels because io-wq cannot start a worker, the stall watchdog.

#include "segment/io/uring_backend.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "tests/segment/io/io_test_util.h"

namespace sluice::io::test {
namespace {

std::unique_ptr<uring_backend> make_ring(boost::asio::io_context& ctx,
                                         unsigned entries = uring_backend::default_entries,
                                         std::size_t inline_write_max_bytes = 0) {
  auto ring = uring_backend::create(ctx, entries, inline_write_max_bytes);
  REQUIRE_MESSAGE(ring.has_value(), (ring ? "" : ring.error().message()));
  return std::move(ring).value();
}

TEST_CASE("writes started in the same io_context turn share one io_uring_submit") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx);
  const auto data = pattern(8 * 512, 1);
  int completed = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    ring->async_write_at(log.fd(), i * 512, std::span(data).subspan(i * 512, 512), "00.log",
                         [&](auto r) { completed += r.has_value() ? 1 : 0; });
  }
  CHECK(ring->submit_calls() == 0);  // nothing is submitted inside the starting calls
  ctx.run();
  CHECK(completed == 8);
  CHECK(ring->submit_calls() == 1);
  CHECK(contents(log.fd()) == data);
}

TEST_CASE("small writes are made at once; large ones, and writes behind them, go to the ring") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx, uring_backend::default_entries, 4096);
  const auto small = pattern(4096, 1);
  const auto large = pattern(65536, 2);
  const auto behind = pattern(512, 3);
  int completed = 0;
  auto count = [&](result<std::size_t> r) { completed += r.has_value() ? 1 : 0; };
  ring->async_write_at(log.fd(), 0, small, "00.log", count);
  CHECK(contents(log.fd()) == small);  // written inside the call...
  CHECK(completed == 0);               // ...but its handler runs on the loop
  ring->async_write_at(log.fd(), 4096, large, "00.log", count);
  ring->async_write_at(log.fd(), 4096 + 65536, behind, "00.log", count);  // small, yet queued
  CHECK(contents(log.fd()).size() == 4096);
  ctx.run();
  CHECK(completed == 3);
  CHECK(ring->submit_calls() == 1);
  auto expected = small;
  expected.insert(expected.end(), large.begin(), large.end());
  expected.insert(expected.end(), behind.begin(), behind.end());
  CHECK(contents(log.fd()) == expected);
}

TEST_CASE("operations beyond the ring's capacity wait in a queue and all complete") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx, 4);  // 4 SQEs, 8 CQEs
  const auto data = pattern(500 * 64, 2);
  int written = 0;
  int synced = 0;
  for (std::size_t i = 0; i < 500; ++i) {
    ring->async_write_at(log.fd(), i * 64, std::span(data).subspan(i * 64, 64), "00.log",
                         [&](auto r) { written += r.has_value() ? 1 : 0; });
    if (i % 50 == 0) {
      ring->async_datasync(log.fd(), "00.log", [&](auto r) { synced += r.has_value() ? 1 : 0; });
    }
  }
  CHECK(ring->in_flight() == 510);
  ctx.run();
  CHECK(written == 500);
  CHECK(synced == 10);
  CHECK(ring->in_flight() == 0);
  CHECK(ring->submit_calls() > 1);
  CHECK(contents(log.fd()) == data);
}

TEST_CASE("a write and the datasync behind it go to the kernel together") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx);
  const auto data = pattern(64 * 1024, 5);
  std::vector<std::string> events;
  ring->async_write_at(log.fd(), 0, data, "00.log", [&](auto r) {
    REQUIRE(r.has_value());
    events.push_back("written");
  });
  ring->async_datasync(log.fd(), "00.log", [&](auto r) {
    REQUIRE(r.has_value());
    events.push_back("synced");
  });
  CHECK(ring->in_flight() == 2);
  ctx.run();
  CHECK(ring->submit_calls() == 1);  // linked: no round trip between them
  CHECK(events == std::vector<std::string>{"written", "synced"});
  CHECK(ring->in_flight() == 0);
}

TEST_CASE("a ring too small to link a write and its datasync still orders them") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx, 1);  // 1 SQE: the pair cannot be submitted together
  const auto data = pattern(4096, 6);
  int written = 0;
  std::vector<int> written_when_synced;
  for (std::size_t i = 0; i < 3; ++i) {
    ring->async_write_at(log.fd(), i * data.size(), data, "00.log", [&](auto) { ++written; });
    ring->async_datasync(log.fd(), "00.log",
                         [&](auto r) { written_when_synced.push_back(r ? written : -1); });
  }
  ctx.run();
  REQUIRE(written_when_synced.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(written_when_synced[i] >= static_cast<int>(i) + 1);
}

TEST_CASE("destroying a uring_backend with a linked write and datasync in flight") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx);
  const auto data = pattern(1024 * 1024, 7);
  int ran = 0;
  ring->async_write_at(log.fd(), 0, data, "00.log", [&](auto) { ++ran; });
  ring->async_datasync(log.fd(), "00.log", [&](auto) { ++ran; });
  ring->async_datasync(log.fd(), "00.log", [&](auto) { ++ran; });  // waits in the backend
  ctx.poll_one();
  REQUIRE(ring->submit_calls() == 1);
  ring.reset();  // waits for the pair in the kernel, drops the datasync waiting behind it
  ctx.restart();
  ctx.run();
  CHECK(ran == 0);
  CHECK(contents(log.fd()) == data);
}

TEST_CASE("an idle io_uring backend does not keep io_context::run from returning") {
  boost::asio::io_context ctx;
  auto ring = make_ring(ctx);
  ctx.run();  // would block forever if the eventfd wait stayed armed
  CHECK(ring->in_flight() == 0);
}

TEST_CASE("destroying a uring_backend with writes in flight waits for the kernel") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx);
  const auto original = pattern(1024 * 1024, 3);
  auto buffer = original;
  int ran = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    ring->async_write_at(log.fd(), i * 65536, std::span(buffer).subspan(i * 65536, 65536), "00.log",
                         [&](auto) { ++ran; });
  }
  ctx.poll_one();  // runs the flush: all 16 are handed to the kernel
  REQUIRE(ring->submit_calls() == 1);
  REQUIRE(ring->in_flight() == 16);
  ring.reset();
  // The kernel is done with the buffer once the destructor returned: reusing it changes nothing.
  std::fill(buffer.begin(), buffer.end(), std::byte{0xEE});
  ctx.restart();
  ctx.run();
  CHECK(ran == 0);
  CHECK(contents(log.fd()) == original);
}

TEST_CASE("destroying a uring_backend before its first submit drops the queued writes") {
  boost::asio::io_context ctx;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT);
  auto ring = make_ring(ctx);
  const auto data = pattern(4096, 4);
  int ran = 0;
  ring->async_write_at(log.fd(), 0, data, "00.log", [&](auto) { ++ran; });
  ring.reset();
  ctx.run();
  CHECK(ran == 0);
  CHECK(contents(log.fd()).empty());
}

// Child-process exit codes of writes_and_syncs_without_worker_threads.
enum without_workers_outcome {
  served = 0,
  could_not_drop_privileges = 1,
  an_op_failed = 2,
  wrong_contents = 3,
  nothing_cancelled = 4,  // io-wq ran everything: the case under test never came up
  could_not_set_up = 5,
};

// In a forked child: sets up the ring as root, then becomes `nobody` with a process limit of 1,
// which its own threads already exceed, so io-wq cannot start a worker thread; then writes
// 2 MiB (buffered writes of 512 KiB go to io-wq) and syncs, each sync on its own in the ring.
int writes_and_syncs_without_worker_threads(const std::filesystem::path& path) {
  boost::asio::io_context ctx;
  file log(path, O_RDWR | O_CREAT);
  auto made = uring_backend::create(ctx);
  if (!made) return could_not_set_up;
  auto ring = std::move(made).value();
  const rlimit one_process{1, 1};
  if (::setgid(65534) != 0 || ::setuid(65534) != 0 || ::setrlimit(RLIMIT_NPROC, &one_process)) {
    return could_not_drop_privileges;
  }
  const auto data = pattern(2 * 1024 * 1024, 21);
  constexpr std::size_t chunk = 512 * 1024;
  int failures = 0;
  for (std::size_t at = 0; at < data.size(); at += chunk) {
    ring->async_write_at(log.fd(), at, std::span(data).subspan(at, chunk), "00.log",
                         [&](auto r) { failures += r ? 0 : 1; });
    ctx.run();
    ctx.restart();
    ring->async_datasync(log.fd(), "00.log", [&](auto r) { failures += r ? 0 : 1; });
    ctx.run();
    ctx.restart();
  }
  if (failures > 0) return an_op_failed;
  if (contents(log.fd()) != data) return wrong_contents;
  return ring->ops_run_after_cancel() > 0 ? served : nothing_cancelled;
}

}  // namespace
TEST_CASE("ops io_uring cancels because io-wq cannot start a worker run on the backend's thread") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: dropping to another user's process limit needs root");
    return;
  }
  temp_dir dir;
  const auto path = dir / "00.log";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      ::_exit(writes_and_syncs_without_worker_threads(path));
    } catch (...) {  // a failed REQUIRE in the child: it must not go on with the suite
      ::_exit(could_not_set_up);
    }
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == could_not_drop_privileges) {
    MESSAGE("skipped: root here cannot become another user (a user namespace?)");
    return;
  }
  // Without the fallback every write and sync fails with ECANCELED (an_op_failed).
  CHECK(WEXITSTATUS(status) == served);
}

// A pipe whose buffer is full, its write end blocking (io_uring then waits for room instead of
// answering EAGAIN), its read end not.
struct full_pipe {
  static std::pair<int, int> make() {
    int ends[2] = {-1, -1};
    REQUIRE(::pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0);
    return {ends[0], ends[1]};
  }
  std::pair<int, int> ends = make();
  file reader{ends.first};
  file writer{ends.second};
  std::vector<std::byte> chunk = std::vector<std::byte>(4096, std::byte{1});

  full_pipe() {
    while (::write(writer.fd(), chunk.data(), chunk.size()) > 0) {
    }
    REQUIRE(errno == EAGAIN);
    REQUIRE(::fcntl(writer.fd(), F_SETFL, 0) == 0);
  }
  // Makes room, so that a write the kernel still holds can finish.
  void drain() {
    std::vector<std::byte> sink(65536);
    while (::read(reader.fd(), sink.data(), sink.size()) > 0) {
    }
  }
};

// A ring (`opts` otherwise) whose watchdog steps in after 200 ms; null (the test skipped) where
// the kernel cannot take ops back.
std::unique_ptr<uring_backend> ring_that_takes_back(boost::asio::io_context& ctx,
                                                    uring_backend::options opts = {}) {
  opts.stall_timeout = std::chrono::milliseconds(200);
  auto made = uring_backend::create(ctx, std::move(opts));
  REQUIRE(made.has_value());
  if (!(*made)->can_take_back()) {
    MESSAGE("skipped: this kernel has no IORING_ASYNC_CANCEL_ANY (Linux 5.19)");
    return nullptr;
  }
  return std::move(made).value();
}

// A write into a full pipe is the one op a test can make io_uring hold without completing it
// (the kernel waits for room with a poll); it stands in for ops stuck in io-wq. Taken back, it
// runs on the backend's own thread, where pwritev refuses a pipe at once (ESPIPE): the point
// is that its handler runs, not that a pipe can be written at a position.
TEST_CASE("ops the kernel holds with no completion for stall_timeout are taken back") {
  boost::asio::io_context ctx;
  full_pipe pipe;
  auto ring = ring_that_takes_back(ctx);
  if (!ring) return;
  std::optional<result<std::size_t>> outcome;
  ring->async_write_at(pipe.writer.fd(), 0, pipe.chunk, "pipe",
                       [&](auto r) { outcome = std::move(r); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!outcome && std::chrono::steady_clock::now() < deadline) {
    ctx.run_for(std::chrono::milliseconds(20));
  }
  pipe.drain();  // destroying the ring waits for what the kernel holds
  REQUIRE(outcome.has_value());
  CHECK(ring->stalls_detected() == 1);
  CHECK(ring->ops_run_after_cancel() == 1);
  REQUIRE(outcome->has_error());
  CHECK(outcome->error().code == std::errc::invalid_seek);
  CHECK(ring->in_flight() == 0);
}

// Runs the loop until `done()` or 10 s; a loop that ran out of work is restarted (an idle
// backend holds none, and new work may come from its thread).
template <class Pred>
void run_until(boost::asio::io_context& ctx, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (ctx.stopped()) ctx.restart();
    ctx.run_for(std::chrono::milliseconds(5));
  }
}

TEST_CASE("after a stall that gave ops back, new ops skip the ring for stall_bypass, then not") {
  boost::asio::io_context ctx;
  full_pipe pipe;
  uring_backend::options opts;
  // Long enough for a loaded machine to do the steps that must fall inside one bypass.
  opts.stall_bypass = std::chrono::milliseconds(1500);
  auto ring = ring_that_takes_back(ctx, std::move(opts));
  if (!ring) return;
  // On tmpfs where there is one: an fdatasync that took stall_timeout on a busy disk would be
  // a stall of its own.
  const bool has_shm = std::filesystem::is_directory("/dev/shm");
  temp_dir dir(has_shm ? std::filesystem::path("/dev/shm")
                       : std::filesystem::temp_directory_path());
  file log(dir / "00.log", O_RDWR | O_CREAT | O_CLOEXEC);
  const auto data = pattern(64 * 1024, 1);
  // Appends a block at `pos` and fdatasyncs it; true once both succeeded.
  auto write_and_sync = [&](std::uint64_t pos) {
    std::optional<result<std::size_t>> written;
    std::optional<result<void>> synced;
    ring->async_write_at(log.fd(), pos, data, "log", [&](auto r) { written = std::move(r); });
    ring->async_datasync(log.fd(), "log", [&](auto r) { synced = std::move(r); });
    run_until(ctx, [&] { return written && synced; });
    return written && *written && synced && *synced;
  };
  auto stall_once = [&] {
    bool ran = false;
    ring->async_write_at(pipe.writer.fd(), 0, pipe.chunk, "pipe", [&](auto) { ran = true; });
    run_until(ctx, [&] { return ran; });
    ctx.restart();
    ctx.run_for(std::chrono::milliseconds(20));  // the cancel's own completion
    return ran;
  };

  REQUIRE(stall_once());
  CHECK(ring->stalls_detected() == 1);
  CHECK(ring->stall_bypass() == std::chrono::milliseconds(1500));
  const auto submits = ring->submit_calls();
  REQUIRE(write_and_sync(0));
  CHECK(ring->ops_bypassed() == 2);  // the write and its sync, on the backend's own thread
  CHECK(ring->submit_calls() == submits);
  CHECK(ring->in_flight() == 0);

  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  REQUIRE(write_and_sync(data.size()));
  CHECK(ring->ops_bypassed() == 2);  // through the ring again
  CHECK(ring->submit_calls() > submits);
  CHECK(contents(log.fd()).size() == 2 * data.size());

  // Stalled again right after the bypass ended: the ring is still broken, the next bypass is
  // twice as long.
  REQUIRE(stall_once());
  CHECK(ring->stalls_detected() == 2);
  CHECK(ring->stall_bypass() == std::chrono::milliseconds(3000));
  REQUIRE(write_and_sync(2 * data.size()));
  CHECK(ring->ops_bypassed() == 4);
  pipe.drain();
}

TEST_CASE("ops still queued behind a full ring when it stalls go to the backend's own thread") {
  boost::asio::io_context ctx;
  full_pipe pipe;
  uring_backend::options opts;
  opts.entries = 2;  // a ring of 4 ops at most
  auto ring = ring_that_takes_back(ctx, std::move(opts));
  if (!ring) return;
  temp_dir dir;
  file log(dir / "00.log", O_RDWR | O_CREAT | O_CLOEXEC);
  int pipe_writes_done = 0;
  for (int i = 0; i < 4; ++i) {  // they fill the ring and stall it
    ring->async_write_at(pipe.writer.fd(), 0, pipe.chunk, "pipe",
                         [&](auto) { ++pipe_writes_done; });
  }
  // Each write and the sync linked behind it wait in the backend's queue.
  constexpr int pairs = 3;
  std::vector<std::vector<std::byte>> blocks;
  blocks.reserve(pairs);  // the backend reads each block until its write's handler has run
  int written = 0;
  int synced = 0;
  for (int i = 0; i < pairs; ++i) {
    blocks.push_back(pattern(8192, static_cast<std::uint32_t>(i + 1)));
    ring->async_write_at(log.fd(), static_cast<std::uint64_t>(i) * 8192, blocks.back(), "log",
                         [&](auto r) { written += r ? 1 : 0; });
    ring->async_datasync(log.fd(), "log", [&](auto r) { synced += r ? 1 : 0; });
  }
  run_until(ctx, [&] { return pipe_writes_done == 4 && written == pairs && synced == pairs; });
  CHECK(pipe_writes_done == 4);
  CHECK(written == pairs);
  CHECK(synced == pairs);
  CHECK(ring->stalls_detected() == 1);
  CHECK(ring->ops_bypassed() == 2 * pairs);
  const auto bytes = contents(log.fd());
  REQUIRE(bytes.size() == pairs * 8192U);
  for (int i = 0; i < pairs; ++i) {
    CHECK(std::equal(blocks[static_cast<std::size_t>(i)].begin(),
                     blocks[static_cast<std::size_t>(i)].end(),
                     bytes.begin() + static_cast<long>(i) * 8192));
  }
  CHECK(ring->in_flight() == 0);
}

TEST_CASE("destroying a uring_backend whose ring is stalled cancels what the kernel holds") {
  boost::asio::io_context ctx;
  full_pipe pipe;
  auto ring = ring_that_takes_back(ctx);
  if (!ring) return;
  bool ran = false;
  ring->async_write_at(pipe.writer.fd(), 0, pipe.chunk, "pipe", [&](auto) { ran = true; });
  ctx.poll_one();  // the flush: the write is in the kernel, waiting for room
  REQUIRE(ring->submit_calls() == 1);
  std::atomic<bool> destroyed = false;
  std::thread destroyer([&] {
    ring.reset();
    destroyed = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!destroyed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const bool in_time = destroyed;
  pipe.drain();  // without the cancel, this is what lets the destructor return
  destroyer.join();
  CHECK(in_time);
  ctx.restart();
  ctx.run();
  CHECK_FALSE(ran);
}

}  // namespace sluice::io::test
