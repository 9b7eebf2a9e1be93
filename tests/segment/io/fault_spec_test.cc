// Fault rules (SLUICE_FAULT_INJECTION): parsing, and how faulty_backend applies them.

#include "segment/io/fault_spec.h"

#include <cerrno>
#include <optional>

#include "segment/io/faulty_backend.h"
#include "tests/segment/io/io_test_util.h"

namespace sluice::io::test {
namespace {

TEST_CASE("parse_fault_spec reads every key") {
  auto rules = parse_fault_spec(
      "write:EIO:partition=t-0:after=3:written=40;sync:ENOSPC:times=all;truncate:EROFS;"
      "zeros:ENOSPC:written=10");
  REQUIRE(rules.has_value());
  REQUIRE(rules->size() == 4);
  const auto& w = (*rules)[0];
  CHECK(w.kind == fault_rule::op::write);
  CHECK(w.err == EIO);
  CHECK(w.partition == "t-0");
  CHECK(w.after == 3);
  CHECK(w.times == 1);
  CHECK(w.written == 40);
  const auto& s = (*rules)[1];
  CHECK(s.kind == fault_rule::op::sync);
  CHECK(s.err == ENOSPC);
  CHECK(s.partition.empty());
  CHECK(s.times == 0);
  CHECK((*rules)[2].kind == fault_rule::op::truncate);
  CHECK((*rules)[2].err == EROFS);
  CHECK((*rules)[3].kind == fault_rule::op::zeros);
  CHECK((*rules)[3].written == 10);
  CHECK(parse_fault_spec("").value().empty());
}

TEST_CASE("parse_fault_spec refuses malformed rules, naming them") {
  for (const char* bad :
       {"write", "read:EIO", "write:EBADF", "write:EIO:after", "write:EIO:after=x",
        "write:EIO:times=0", "sync:EIO:written=5", "truncate:EIO:written=5", "write:EIO:colour=red",
        "write:EIO:partition=a/b", "write:EIO;", "write:EIO:after=-1"}) {
    CAPTURE(bad);
    auto r = parse_fault_spec(bad);
    REQUIRE(r.has_error());
    CHECK(is_errno(r.error(), EINVAL));
    CHECK(r.error().detail.find("SLUICE_FAULT_INJECTION") != std::string::npos);
  }
}

TEST_CASE("a rule matches only files of its partition") {
  fault_rule r;
  r.partition = "t-1";
  CHECK(r.matches("write /data/t-1/00000000000000000000.log at position 0"));
  CHECK(r.matches("fdatasync /data/t-1/00000000000000000000.log"));
  CHECK_FALSE(r.matches("write /data/t-10/00000000000000000000.log at position 0"));
  CHECK_FALSE(r.matches("write /data/at-1/00000000000000000000.log at position 0"));
}

TEST_CASE_TEMPLATE("faulty_backend rules: after, times, written, partition, each op", K,
                   SLUICE_REAL_BACKENDS) {
  boost::asio::io_context ctx;
  temp_dir dir;
  std::filesystem::create_directory(dir / "t-0");
  file log(dir / "t-0/00.log", O_RDWR | O_CREAT);
  faulty_backend io(ctx, make_backend(ctx, K::kind));
  auto rules = parse_fault_spec(
      "write:EIO:partition=t-0:after=1:times=2:written=10;"
      "sync:EIO:partition=t-0:after=1;write:ENOSPC:partition=u-0;"
      "truncate:EIO:partition=t-0:after=1");
  REQUIRE(rules.has_value());
  for (auto& r : *rules) io.add_rule(r);
  const std::string what = "write " + (dir / "t-0/00.log").string();
  auto write = [&](std::uint64_t pos, std::span<const std::byte> data) {
    std::optional<result<std::size_t>> out;
    io.async_write_at(log.fd(), pos, data, what, [&](auto r) { out = r; });
    ctx.restart();
    ctx.run();
    REQUIRE(out.has_value());
    return *out;
  };
  const auto data = pattern(100, 7);
  CHECK(write(0, data).value() == 100);  // after=1 lets the first through
  auto torn = write(100, data);
  REQUIRE(torn.has_error());
  CHECK(is_errno(torn.error(), EIO));
  CHECK(contents(log.fd()).size() == 110);  // written=10
  CHECK(is_errno(write(100, data).error(), EIO));
  CHECK(write(100, data).value() == 100);  // times=2: spent
  CHECK(contents(log.fd()).size() == 200);

  const std::string sync_what = "fdatasync " + (dir / "t-0/00.log").string();
  CHECK(io.datasync(log.fd(), sync_what).has_value());
  CHECK(is_errno(io.datasync(log.fd(), sync_what).error(), EIO));
  CHECK(io.datasync(log.fd(), sync_what).has_value());

  const std::string truncate_what = "truncate " + (dir / "t-0/00.log").string();
  CHECK(io.truncate(log.fd(), 150, truncate_what).has_value());
  auto refused = io.truncate(log.fd(), 100, truncate_what);
  REQUIRE(refused.has_error());
  CHECK(is_errno(refused.error(), EIO));
  CHECK(contents(log.fd()).size() == 150);  // a failed truncate leaves the file as it was
  CHECK(io.truncate(log.fd(), 100, truncate_what).has_value());
  CHECK(contents(log.fd()).size() == 100);
  io.clear_faults();
}

}  // namespace
}  // namespace sluice::io::test
