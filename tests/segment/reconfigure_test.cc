// A live log given new settings (partition_log::reconfigure): the flush policy switched while
// appends and fdatasyncs are in flight acknowledges every append exactly once, in order, and
// only once its bytes are written (and fdatasync'd under flush=always).

#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "log_fixture.h"
#include "protocol/batch_header.h"
#include "segment/errc.h"
#include "tests/result_printer.h"

namespace sluice::test {
namespace {

log_config with_flush(std::string_view policy) {
  log_config c;
  c.flush = flush_policy::parse(policy).value();
  return c;
}

// Starts `n` appends of 2 records each; their outcomes land in `out` (in completion order).
// When an append is acknowledged its bytes must already be in the file: the handler reads its
// batch back (a batch acknowledged before its write completed reads as a hole).
void start_appends(log_fixture& f, int n, std::vector<result<append_info>>& out) {
  for (int i = 0; i < n; ++i) {
    f.log->append(make_batch(2, 200, static_cast<std::uint64_t>(i)),
                  [&f, &out](result<append_info> r) {
                    if (r) {
                      auto slice = f.log->read(r->base_offset, 1);
                      REQUIRE(slice.has_value());
                      auto bytes = slice->read_bytes();
                      REQUIRE(bytes.has_value());
                      auto header = parse_batch_header(*bytes);
                      REQUIRE(header.has_value());
                      CHECK(header->base_offset == r->base_offset);
                    }
                    out.push_back(std::move(r));
                  });
  }
}

void run_until(log_fixture& f, const std::function<bool()>& done) {
  while (!done()) {
    if (f.ctx.run_one() == 0) f.ctx.restart();
  }
}

void check_all_acknowledged_in_order(const std::vector<result<append_info>>& out, int n) {
  REQUIRE(out.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    REQUIRE(out[static_cast<std::size_t>(i)].has_value());
    CHECK(out[static_cast<std::size_t>(i)]->base_offset == offset{2 * i});
  }
}

}  // namespace

TEST_CASE("switching flush from always to interval while a group commit is in flight") {
  log_fixture f;
  f.open(with_flush("always"));
  std::vector<result<append_info>> out;
  const auto syncs_before = f.io->syncs();
  start_appends(f, 40, out);
  run_until(f, [&] { return f.io->syncs() > syncs_before; });  // a group commit has started
  REQUIRE(f.log->reconfigure(with_flush("interval:100")));
  start_appends(f, 10, out);
  run_until(f, [&] { return out.size() == 50; });
  check_all_acknowledged_in_order(out, 50);
  CHECK(f.log->visible_end() == offset{100});
  CHECK(f.log->visible_end() <= f.log->log_end_offset());
}

TEST_CASE("switching to interval while the only appends are in a group commit") {
  log_fixture f;
  f.open(with_flush("always"));
  std::vector<result<append_info>> out;
  const auto syncs_before = f.io->syncs();
  start_appends(f, 3, out);
  run_until(f, [&] { return f.io->syncs() > syncs_before; });
  REQUIRE(f.log->reconfigure(with_flush("interval:100")));
  run_until(f, [&] { return out.size() == 3; });
  check_all_acknowledged_in_order(out, 3);
  CHECK(f.log->visible_end() == offset{6});
}

TEST_CASE("switching flush from interval back to always acknowledges only after fdatasync") {
  log_fixture f;
  f.open(with_flush(interval_without_timer));
  std::vector<result<append_info>> out;
  start_appends(f, 20, out);
  run_until(f, [&] { return out.size() >= 5; });
  REQUIRE(f.log->reconfigure(with_flush("always")));
  start_appends(f, 20, out);
  run_until(f, [&] { return out.size() == 40; });
  check_all_acknowledged_in_order(out, 40);
  // Everything acknowledged after the switch is durable.
  CHECK(f.log->durable_end() == f.log->visible_end());
  CHECK(f.log->visible_end() == offset{80});
}

TEST_CASE("a bad config is refused and the log keeps its settings") {
  log_fixture f;
  f.open(with_flush("always"));
  log_config bad;
  bad.segment_bytes = 10;
  auto r = f.log->reconfigure(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == log_errc::bad_config);
  CHECK(f.log->config().segment_bytes == log_config{}.segment_bytes);
}

}  // namespace sluice::test
