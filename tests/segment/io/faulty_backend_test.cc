// The fault-injecting decorator, over both real backends.

#include "segment/io/faulty_backend.h"

#include <cerrno>
#include <optional>
#include <thread>

#include "tests/segment/io/io_test_util.h"

namespace sluice::io::test {
namespace {

struct faulty_fixture {
  explicit faulty_fixture(backend_kind kind) : io(ctx, make_backend(ctx, kind)) {}
  boost::asio::io_context ctx;
  temp_dir dir;
  file log{dir / "00.log", O_RDWR | O_CREAT};
  faulty_backend io;

  result<std::size_t> write(std::uint64_t pos, std::span<const std::byte> data) {
    std::optional<result<std::size_t>> outcome;
    io.async_write_at(log.fd(), pos, data, "00.log", [&](auto r) { outcome = r; });
    ctx.restart();
    ctx.run();
    REQUIRE(outcome.has_value());
    return *outcome;
  }
  result<void> sync() {
    std::optional<result<void>> outcome;
    io.async_datasync(log.fd(), "00.log", [&](auto r) { outcome = r; });
    ctx.restart();
    ctx.run();
    REQUIRE(outcome.has_value());
    return *outcome;
  }
};

TEST_CASE_TEMPLATE("fail_next_write with a prefix leaves exactly those bytes and reports ENOSPC", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  const auto data = pattern(1000, 1);
  f.io.fail_next_write(ENOSPC, 300);
  auto torn = f.write(0, data);
  REQUIRE(torn.has_error());
  CHECK(is_errno(torn.error(), ENOSPC));
  CHECK(torn.error().detail.find("position 300 (300 of 1000 bytes written") != std::string::npos);
  CHECK(contents(f.log.fd()) == std::vector(data.begin(), data.begin() + 300));
  // One-shot: the next write goes through.
  CHECK(f.write(300, std::span(data).subspan(300)).value() == 700);
  CHECK(contents(f.log.fd()) == data);
}

TEST_CASE_TEMPLATE("fail_next_write's prefix counts across the buffers of a gathered write", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  const auto a = pattern(200, 2);
  const auto b = pattern(300, 3);
  const std::span<const std::byte> buffers[] = {a, b};
  f.io.fail_next_write(EIO, 250);
  std::optional<result<std::size_t>> outcome;
  f.io.async_write_at(f.log.fd(), 0, write_buffers(buffers), "00.log",
                      [&](auto r) { outcome = r; });
  f.ctx.run();
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_error());
  CHECK(is_errno(outcome->error(), EIO));
  CHECK(outcome->error().detail.find("(250 of 500 bytes written") != std::string::npos);
  auto expected = a;
  expected.insert(expected.end(), b.begin(), b.begin() + 50);
  CHECK(contents(f.log.fd()) == expected);
}

TEST_CASE_TEMPLATE("fail_next_write without a prefix writes nothing", K, SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  f.io.fail_next_write(EIO);
  auto r = f.write(0, pattern(100, 2));
  REQUIRE(r.has_error());
  CHECK(is_errno(r.error(), EIO));
  CHECK(contents(f.log.fd()).empty());
}

TEST_CASE_TEMPLATE("fail_all_writes fails every write until clear_faults", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  const auto data = pattern(100, 3);
  f.io.fail_all_writes(ENOSPC);
  for (int i = 0; i < 3; ++i) CHECK(is_errno(f.write(0, data).error(), ENOSPC));
  CHECK(contents(f.log.fd()).empty());
  f.io.clear_faults();
  CHECK(f.write(0, data).value() == 100);
  CHECK(contents(f.log.fd()) == data);
  CHECK(f.io.writes() == 4);
}

TEST_CASE_TEMPLATE("fail_next_sync reports EIO once, for async and sync datasync", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  f.io.fail_next_sync(EIO);
  auto failed = f.sync();
  REQUIRE(failed.has_error());
  CHECK(is_errno(failed.error(), EIO));
  CHECK(failed.error().detail.find("00.log") != std::string::npos);
  CHECK(f.sync().has_value());
  f.io.fail_next_sync(EIO);
  CHECK(is_errno(f.io.datasync(f.log.fd(), "00.log").error(), EIO));
  CHECK(f.io.datasync(f.log.fd(), "00.log").has_value());
  CHECK(f.io.syncs() == 4);
}

TEST_CASE_TEMPLATE("fail_all_syncs fails every datasync until clear_faults", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  f.io.fail_all_syncs(EIO);
  CHECK(is_errno(f.sync().error(), EIO));
  CHECK(is_errno(f.sync().error(), EIO));
  CHECK(is_errno(f.io.datasync(f.log.fd(), "00.log").error(), EIO));
  f.io.clear_faults();
  CHECK(f.sync().has_value());
}

TEST_CASE_TEMPLATE("fail_next_truncate fails once and leaves the file as it was", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  const auto data = pattern(500, 4);
  REQUIRE(f.write(0, data).has_value());
  f.io.fail_next_truncate(EIO);
  auto failed = f.io.truncate(f.log.fd(), 100, "00.log");
  REQUIRE(failed.has_error());
  CHECK(is_errno(failed.error(), EIO));
  CHECK(contents(f.log.fd()) == data);
  REQUIRE(f.io.truncate(f.log.fd(), 100, "00.log").has_value());
  CHECK(contents(f.log.fd()).size() == 100);
}

TEST_CASE_TEMPLATE("injected failures reach the handler on the io_context thread, not inline", K,
                   SLUICE_REAL_BACKENDS) {
  faulty_fixture f(K::kind);
  const auto loop_thread = std::this_thread::get_id();
  const auto data = pattern(10, 5);
  bool starting = true;
  int ran = 0;
  auto check = [&](bool failed) {
    CHECK(failed);
    CHECK_FALSE(starting);
    CHECK(std::this_thread::get_id() == loop_thread);
    ++ran;
  };
  f.io.fail_next_write(ENOSPC);
  f.io.async_write_at(f.log.fd(), 0, data, "00.log", [&](auto r) { check(r.has_error()); });
  f.io.fail_next_sync(EIO);
  f.io.async_datasync(f.log.fd(), "00.log", [&](auto r) { check(r.has_error()); });
  starting = false;
  f.ctx.run();
  CHECK(ran == 2);
}

TEST_CASE("faulty_backend is named after the backend it wraps") {
  boost::asio::io_context ctx;
  CHECK(faulty_backend(ctx, make_backend(ctx, backend_kind::pwrite)).name() == "faulty(pwrite)");
  CHECK(faulty_backend(ctx, make_backend(ctx, backend_kind::io_uring)).name() ==
        "faulty(io_uring)");
}

}  // namespace
}  // namespace sluice::io::test
