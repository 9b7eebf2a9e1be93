// A broker partition over a real partition log (io_uring or pwrite backend): idempotent produce,
// long-poll waiters and producer state rebuilt on reopen.

#include "broker/partition.h"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <optional>

#include "broker/errc.h"
#include "broker/producer_snapshot.h"
#include "protocol/crc32c.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_batch_format.h"
#include "segment/errc.h"
#include "segment/io/backend.h"
#include "segment/io/faulty_backend.h"
#include "tests/broker/test_dir.h"
#include "tests/result_printer.h"

using namespace sluice;

namespace {

byte_buffer idempotent_batch(std::int32_t first_seq, int records, std::int64_t pid = 7,
                             std::int64_t timestamp = 1'700'000'000'000) {
  record_batch_builder b({.producer_id = pid, .producer_epoch = 0, .base_sequence = first_seq});
  for (int i = 0; i < records; ++i) {
    std::string v = "value-" + std::to_string(first_seq + i);
    b.add(timestamp + i, std::nullopt, as_bytes(v));
  }
  return b.build();
}

// The batch with these attribute bits set (5: control, 4: transactional) and its CRC made
// right again, as a client could send it.
byte_buffer with_attribute_bits(byte_buffer batch, std::uint8_t bits) {
  batch[attributes_offset + 1] |= std::byte{bits};  // big-endian int16: the low byte
  const auto crc = crc32c(byte_span(batch).subspan(crc_scope_start));
  for (int i = 0; i < 4; ++i) {
    batch[crc_offset + i] = static_cast<std::byte>(crc >> (24 - 8 * i));
  }
  return batch;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 1 KiB segments: a few batches roll one, so tests reach many segments quickly.
log_config small_segments() {
  log_config config;
  config.segment_bytes = 1024;
  return config;
}

struct partition_fixture {
  test::scratch_dir dir;
  boost::asio::io_context ctx;
  std::unique_ptr<io::backend> io = io::make_backend(ctx);
  std::unique_ptr<partition> p;

  // Before open(): the partition's I/O goes through a backend that fails what it is told to.
  io::faulty_backend& inject_faults() {
    auto faulty = std::make_unique<io::faulty_backend>(ctx, std::move(io));
    auto& faults = *faulty;
    io = std::move(faulty);
    return faults;
  }
  void open(log_config config = {}) {
    auto r = partition::open({"t", 0}, dir.path() / "t-0", config, *io, ctx);
    REQUIRE(r);
    p = std::move(*r);
  }
  // Runs the loop until `done()`; a loop that ran out of work is restarted (new work may have
  // been queued since).
  template <class Pred>
  void run_until(Pred done) {
    while (!done()) {
      if (ctx.run_one() == 0) ctx.restart();
    }
  }
  // Drops the partition without close(): what a killed broker leaves (minus unsynced pages).
  void crash() {
    p.reset();
    ctx.restart();
    ctx.poll();
  }
  void close() {
    std::optional<result<void>> closed;
    p->close([&](result<void> r) { closed = r; });
    run_until([&] { return closed.has_value(); });
    REQUIRE(*closed);
    p.reset();
  }
  result<produce_outcome> produce(byte_buffer batch) {
    std::optional<result<produce_outcome>> out;
    p->produce(std::move(batch), [&](result<produce_outcome> r) { out = std::move(r); });
    run_until([&] { return out.has_value(); });
    return *out;
  }
};

}  // namespace

TEST_CASE("a retried idempotent batch is stored once and answered with its first offset") {
  partition_fixture f;
  f.open();
  auto first = f.produce(idempotent_batch(0, 3));
  REQUIRE(first);
  CHECK(first->base_offset == offset{0});
  CHECK_FALSE(first->duplicate);
  auto retry = f.produce(idempotent_batch(0, 3));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == offset{0});
  CHECK(f.p->status().high_watermark == offset{3});
}

TEST_CASE("a corrupt batch holds no place in its producer's sequence") {
  partition_fixture f;
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 3)));  // the broker knows this producer now
  auto corrupt = idempotent_batch(3, 3);
  corrupt.back() ^= std::byte{0x5a};  // a record byte: the CRC no longer matches
  std::optional<result<produce_outcome>> first, second;
  f.p->produce(std::move(corrupt), [&](result<produce_outcome> r) { first = std::move(r); });
  // Pipelined right behind it, before either is answered: sequence 6 follows a batch that
  // was never stored, so it must not be either.
  f.p->produce(idempotent_batch(6, 3), [&](result<produce_outcome> r) { second = std::move(r); });
  f.run_until([&] { return first.has_value() && second.has_value(); });
  REQUIRE_FALSE(*first);
  REQUIRE_FALSE(*second);
  CHECK(second->error().code == broker_errc::out_of_order_sequence);
  CHECK(f.p->status().high_watermark == offset{3});
  // The producer's retry of the corrupt batch, now whole, is stored, then the next.
  REQUIRE(f.produce(idempotent_batch(3, 3)));
  auto next = f.produce(idempotent_batch(6, 3));
  REQUIRE(next);
  CHECK(next->base_offset == offset{6});
}

// A write error cuts the log back at once, but the failed batch's answer is queued behind: a
// batch of the same producer handled in between must not be taken for its successor.
TEST_CASE("a batch pipelined behind one whose write failed is not stored after the gap") {
  partition_fixture f;
  auto& faults = f.inject_faults();
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 3)));
  faults.fail_next_write(EIO);
  std::optional<result<produce_outcome>> first, second;
  f.p->produce(idempotent_batch(3, 3), [&](result<produce_outcome> r) { first = std::move(r); });
  // Until the write error has cut the log back to offset 3; the failure's answer is queued.
  REQUIRE(f.p->status().log_end_offset == offset{6});
  f.run_until([&] { return f.p->status().log_end_offset == offset{3}; });
  REQUIRE_FALSE(first.has_value());
  f.p->produce(idempotent_batch(6, 3), [&](result<produce_outcome> r) { second = std::move(r); });
  f.run_until([&] { return first.has_value() && second.has_value(); });
  REQUIRE_FALSE(*first);
  REQUIRE_FALSE(*second);
  CHECK(second->error().code == broker_errc::out_of_order_sequence);
  CHECK(f.p->status().log_end_offset == offset{3});
  // The producer's retries, in order, are stored in order.
  REQUIRE(f.produce(idempotent_batch(3, 3)));
  auto next = f.produce(idempotent_batch(6, 3));
  REQUIRE(next);
  CHECK(next->base_offset == offset{6});
}

// As above, with another producer's batch queued in between: appended where the log was cut,
// it moves the log's end past the failed batch before the failure's answer comes.
TEST_CASE("a batch pipelined behind one whose write failed stays refused when others append") {
  partition_fixture f;
  auto& faults = f.inject_faults();
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 3)));
  faults.fail_next_write(EIO);
  std::optional<result<produce_outcome>> failed, other, next;
  f.p->produce(idempotent_batch(3, 3), [&](result<produce_outcome> r) { failed = std::move(r); });
  f.run_until([&] { return f.p->status().log_end_offset == offset{3}; });
  REQUIRE_FALSE(failed.has_value());
  constexpr std::int64_t other_producer = 8;
  f.p->produce(idempotent_batch(0, 3, other_producer),
               [&](result<produce_outcome> r) { other = std::move(r); });
  f.p->produce(idempotent_batch(6, 3), [&](result<produce_outcome> r) { next = std::move(r); });
  f.run_until([&] { return failed && other && next; });
  REQUIRE_FALSE(*failed);
  REQUIRE(*other);
  CHECK((*other)->base_offset == offset{3});
  REQUIRE_FALSE(*next);
  CHECK(next->error().code == broker_errc::out_of_order_sequence);
  // The producer's retries, in order, are stored in order after the other producer's batch.
  auto retried = f.produce(idempotent_batch(3, 3));
  REQUIRE(retried);
  CHECK(retried->base_offset == offset{6});
  auto then = f.produce(idempotent_batch(6, 3));
  REQUIRE(then);
  CHECK(then->base_offset == offset{9});
}

TEST_CASE("batches only a broker writes, or with negative producer fields, are refused") {
  partition_fixture f;
  f.open();
  constexpr std::uint8_t control = 0x20;
  constexpr std::uint8_t transactional = 0x10;
  auto refused_because = [&](byte_buffer batch) {
    auto r = f.produce(std::move(batch));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == broker_errc::invalid_request);
    return r.error().detail;
  };
  CHECK(refused_because(with_attribute_bits(idempotent_batch(0, 3), control)).find("control") !=
        std::string::npos);
  CHECK(refused_because(with_attribute_bits(idempotent_batch(0, 3), transactional))
            .find("transactional") != std::string::npos);
  CHECK(refused_because(idempotent_batch(-5, 3)).find("base sequence -5") != std::string::npos);
  CHECK(f.p->status().log_end_offset == offset{0});
  // None took a place in the producer's sequence.
  auto first = f.produce(idempotent_batch(0, 3));
  REQUIRE(first);
  CHECK(first->base_offset == offset{0});
}

// A whole-log rebuild (set off by a producer the partial state does not know) reads a batch
// whose acknowledgement is still queued; the acknowledgement then must not remember it again.
TEST_CASE("a batch read by a rebuild while its acknowledgement is queued is remembered once") {
  partition_fixture f;
  f.open(small_segments());
  const auto now = now_ms();
  constexpr std::int64_t busy_producer = 8;
  for (int i = 0; i < 30; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, busy_producer, now)));
  REQUIRE(f.produce(idempotent_batch(0, 4, 7, now)));
  f.crash();
  f.open(small_segments());  // many segments: the state is rebuilt from the last two only
  std::optional<result<produce_outcome>> stored, unknown;
  f.p->produce(idempotent_batch(4, 4, 7, now), [&](result<produce_outcome> r) { stored = r; });
  const auto end = f.p->status().log_end_offset;
  f.run_until([&] { return f.p->status().high_watermark == end || stored.has_value(); });
  REQUIRE_FALSE(stored.has_value());  // visible, its acknowledgement queued
  constexpr std::int64_t unknown_producer = 99;
  f.p->produce(idempotent_batch(0, 1, unknown_producer, now),
               [&](result<produce_outcome> r) { unknown = r; });
  f.run_until([&] { return stored && unknown; });
  REQUIRE(*stored);
  f.close();

  auto snap = read_producer_snapshot(f.dir.path() / "t-0");
  REQUIRE(snap);
  REQUIRE(snap->has_value());
  bool found = false;
  for (const auto& p : (*snap)->table.remembered()) {
    if (p.producer_id != 7) continue;
    found = true;
    REQUIRE(p.batches.size() == 2);
    CHECK(p.batches[0].base != p.batches[1].base);
  }
  CHECK(found);
}

// Retention saves the state of the producers whose batches it deletes; with a partial state
// (many segments since a crash) it dates them from the log. A producer re-ingesting records days
// old is not idle: its retry after a clean restart must still be known.
TEST_CASE("retention with a partial state keeps a producer storing old records now") {
  partition_fixture f;
  auto config = small_segments();
  f.open(config);
  const auto now = now_ms();
  const std::int64_t days_ago = now - std::int64_t{3} * 24 * 3600 * 1000;
  constexpr std::int64_t busy_producer = 8;
  constexpr std::int64_t reingesting = 7;
  for (int i = 0; i < 30; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, busy_producer, now)));
  REQUIRE(f.produce(idempotent_batch(0, 4, reingesting, days_ago)));
  f.crash();
  f.open(config);  // both producers are known from the last segments: the state stays partial
  auto lost_ack = f.produce(idempotent_batch(4, 4, reingesting, days_ago));
  REQUIRE(lost_ack);
  for (int i = 30; i < 60; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, busy_producer, now)));
  config.retention_bytes = 2048;
  REQUIRE(f.p->reconfigure(config));
  REQUIRE(f.p->enforce_retention());
  REQUIRE(f.p->status().log_start_offset > lost_ack->base_offset);
  f.close();

  f.open(config);
  auto retry = f.produce(idempotent_batch(4, 4, reingesting, days_ago));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == lost_ack->base_offset);
}

TEST_CASE("a retry sent while the original is in flight gets the original's outcome") {
  partition_fixture f;
  f.open();
  std::optional<result<produce_outcome>> a;
  std::optional<result<produce_outcome>> b;
  f.p->produce(idempotent_batch(0, 2), [&](auto r) { a = r; });
  f.p->produce(idempotent_batch(0, 2), [&](auto r) { b = r; });
  f.run_until([&] { return a && b; });
  REQUIRE(*a);
  REQUIRE(*b);
  CHECK((*b)->duplicate);
  CHECK((*b)->base_offset == (*a)->base_offset);
  CHECK(f.p->status().high_watermark == offset{2});
}

TEST_CASE("a retry waiting on its original when the partition closes gets the original's outcome") {
  partition_fixture f;
  f.open();
  std::optional<result<produce_outcome>> original;
  std::optional<result<produce_outcome>> retry;
  f.p->produce(idempotent_batch(0, 2), [&](auto r) { original = r; });
  f.p->produce(idempotent_batch(0, 2), [&](auto r) { retry = r; });
  f.close();  // the original was still in flight
  REQUIRE(original);
  REQUIRE(*original);
  REQUIRE(retry);
  REQUIRE_MESSAGE(*retry, retry->error().message());
  CHECK((*retry)->duplicate);
  CHECK((*retry)->base_offset == (*original)->base_offset);
}

TEST_CASE("a sequence gap is refused and nothing is appended") {
  partition_fixture f;
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 2)));
  auto gap = f.produce(idempotent_batch(5, 1));
  REQUIRE_FALSE(gap);
  CHECK(gap.error().code == broker_errc::out_of_order_sequence);
  CHECK(f.p->status().high_watermark == offset{2});
}

TEST_CASE("after a reopen, a retry of a batch stored before is still recognised") {
  partition_fixture f;
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 4)));
  REQUIRE(f.produce(idempotent_batch(4, 4)));
  f.close();
  f.open();
  auto retry = f.produce(idempotent_batch(4, 4));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == offset{4});
  CHECK(f.p->status().high_watermark == offset{8});
}

// Found by the chaos harness (tests/chaos/): producer state was rebuilt from the last two
// segments only, so a producer whose acknowledgements were lost in a crash, and whose batches
// other producers had pushed out of those segments, had its retry refused as out of order (the
// producer then started over with a new producer id and stored the batches again) or, when
// none of its batches was in them, simply stored twice.
TEST_CASE("after a reopen, retries of batches stored before the last two segments are recognised") {
  partition_fixture f;
  log_config config = small_segments();
  f.open(config);
  auto unknown_first = f.produce(idempotent_batch(0, 4, 7));  // producer 7: one batch
  auto known_first = f.produce(idempotent_batch(0, 4, 9));    // producer 9: two, far apart
  REQUIRE(unknown_first);
  REQUIRE(known_first);
  for (int i = 0; i < 30; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, 8)));
  auto known_second = f.produce(idempotent_batch(4, 4, 9));
  REQUIRE(known_second);
  REQUIRE(f.p->status().segments >= 4);
  const auto end = f.p->status().high_watermark;
  f.close();

  f.open(config);
  auto retry = f.produce(idempotent_batch(0, 4, 9));  // older than what was restored of 9
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == known_first->base_offset);
  retry = f.produce(idempotent_batch(0, 4, 7));  // 7 is in no restored segment
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == unknown_first->base_offset);
  retry = f.produce(idempotent_batch(4, 4, 9));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == known_second->base_offset);
  CHECK(f.p->status().high_watermark == end);
  // New batches go on as before.
  auto next = f.produce(idempotent_batch(8, 4, 9));
  REQUIRE(next);
  CHECK_FALSE(next->duplicate);
  CHECK(next->base_offset == end);
  auto fresh = f.produce(idempotent_batch(0, 2, 11));  // a producer new to the partition
  REQUIRE(fresh);
  CHECK_FALSE(fresh->duplicate);
}

// Found by the chaos harness too: a request that timed out on the client is still processed by
// the broker, and the producer may send newer batches meanwhile; when five of them are stored
// before the timed-out batch's retry arrives, the retry is older than everything the broker
// remembers of the producer. It was refused as out of order, and the producer then sent the
// batches again under a new producer id.
TEST_CASE("a retry of a batch older than the five remembered is answered from the log") {
  partition_fixture f;
  log_config config = small_segments();
  f.open(config);
  auto old = f.produce(idempotent_batch(0, 4));
  REQUIRE(old);
  for (int i = 1; i <= 12; ++i) {
    REQUIRE(f.produce(idempotent_batch(i * 4, 4)));
    REQUIRE(f.produce(idempotent_batch(i * 4, 4, 8)));  // another producer fills segments
  }
  const auto end = f.p->status().high_watermark;
  auto retry = f.produce(idempotent_batch(0, 4));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == old->base_offset);
  auto never_sent = f.produce(idempotent_batch(2, 2));  // older, but no such batch was stored
  REQUIRE_FALSE(never_sent);
  CHECK(never_sent.error().code == broker_errc::out_of_order_sequence);
  CHECK(f.p->status().high_watermark == end);
}

// Found by the chaos harness (chaos-retained: 16 KiB segments): the log search behind the five
// remembered batches covered the segment holding the oldest of them and the one before; with
// other producers' batches between, the retried batch lay further back, was not found, and the
// refusal (out of order) made the producer store it again under a new producer id.
TEST_CASE("a retry of a forgotten batch is found however many small segments lie between") {
  partition_fixture f;
  log_config config = small_segments();
  f.open(config);
  auto old = f.produce(idempotent_batch(0, 4));
  REQUIRE(old);
  const auto segments_before = f.p->status().segments;
  for (int i = 1; i <= 6; ++i) {
    for (int j = 0; j < 24; ++j) {  // another producer fills several segments between
      REQUIRE(f.produce(idempotent_batch(((i - 1) * 24 + j) * 4, 4, 8)));
    }
    REQUIRE(f.produce(idempotent_batch(i * 4, 4)));
  }
  REQUIRE(f.p->status().segments >= segments_before + 12);
  const auto end = f.p->status().high_watermark;
  auto retry = f.produce(idempotent_batch(0, 4));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == old->base_offset);
  auto never_sent = f.produce(idempotent_batch(2, 2));  // older, but no such batch was stored
  REQUIRE_FALSE(never_sent);
  CHECK(never_sent.error().code == broker_errc::out_of_order_sequence);
  CHECK(f.p->status().high_watermark == end);
}

namespace {

// Retention by size, tightened step by step until the log starts past `offset`.
void delete_below(partition_fixture& f, log_config& config, offset o) {
  config.retention_bytes = static_cast<std::int64_t>(f.p->status().size_bytes);
  while (f.p->status().log_start_offset <= o) {
    config.retention_bytes -= 100;
    REQUIRE(config.retention_bytes > 0);
    REQUIRE(f.p->reconfigure(config));
    REQUIRE(f.p->enforce_retention());
  }
}

struct retention_scenario {
  result<produce_outcome> gone = make_error(broker_errc::out_of_order_sequence, "not produced");
  result<produce_outcome> lone = gone;
  result<produce_outcome> kept = gone;
  offset end{-1};
};

// Producer 9's first batch and producer 7's only one, then many of producer 8, producer 9's
// second batch and many more of 8.
retention_scenario produce_for_retention(partition_fixture& f, std::int64_t now) {
  retention_scenario s;
  s.gone = f.produce(idempotent_batch(0, 4, 9, now));
  s.lone = f.produce(idempotent_batch(0, 4, 7, now));
  for (int i = 0; i < 30; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, 8, now)));
  s.kept = f.produce(idempotent_batch(4, 4, 9, now));
  for (int i = 30; i < 60; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, 8, now)));
  REQUIRE(s.gone);
  REQUIRE(s.lone);
  REQUIRE(s.kept);
  s.end = f.p->status().high_watermark;
  return s;
}

// A partition of 1 KiB segments with produce_for_retention's batches in it.
struct retention_case {
  partition_fixture f;
  log_config config;
  std::int64_t now = now_ms();
  retention_scenario s;
  retention_case() {
    config = small_segments();
    f.open(config);
    s = produce_for_retention(f, now);
  }
};

// After retention deleted producer 9's first batch and producer 7's only one.
void check_retries_recognised(partition_fixture& f, const retention_scenario& s, std::int64_t now) {
  auto retry = f.produce(idempotent_batch(0, 4, 9, now));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == s.gone->base_offset);
  retry = f.produce(idempotent_batch(0, 4, 7, now));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == s.lone->base_offset);
  retry = f.produce(idempotent_batch(4, 4, 9, now));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == s.kept->base_offset);
  CHECK(f.p->status().high_watermark == s.end);
  auto next = f.produce(idempotent_batch(8, 4, 9, now));
  REQUIRE(next);
  CHECK_FALSE(next->duplicate);
  CHECK(next->base_offset == s.end);
}

}  // namespace

// Found by the chaos harness (chaos-retained: 16 KiB segments, 64 KiB retained): a broker was
// killed after storing a producer's batches and before acknowledging them, and retention
// deleted the first of them before the producer's retry arrived at the restarted broker. Rebuilt
// from the log, the producer state knew only the later batches: the retry was refused as out of
// order, and the producer stored them all again under a new producer id. A producer none of
// whose batches was left in the log had its retry stored twice.
TEST_CASE("after a crash, retries of batches retention deleted are still recognised") {
  retention_case c;
  auto& [f, config, now, s] = c;
  delete_below(f, config, s.lone->base_offset);
  REQUIRE(f.p->status().log_start_offset <= s.kept->base_offset);
  f.crash();

  f.open(config);
  check_retries_recognised(f, s, now);
}

// Found by the chaos harness (2026-12-05; chaos-retained kept 64 KiB of 16 KiB segments): the
// log acknowledges a group commit by queueing each append's completion, and a retention pass
// that ran before they did deleted segments whose batches the producer state still had in
// flight. Its snapshot did not know them; the broker was killed, the producer retried the
// batch it had no answer for, the restarted broker refused it as out of order, and the producer
// stored it and the batches after it again under a new producer id.
TEST_CASE("retention between a group commit and its queued acknowledgements keeps their state") {
  partition_fixture f;
  log_config config = small_segments();
  f.open(config);
  const auto now = now_ms();
  std::optional<result<produce_outcome>> first;
  f.p->produce(idempotent_batch(0, 4, 5, now), [&](result<produce_outcome> r) { first = r; });
  int answered = 0;
  constexpr int fillers = 30;  // several segments of producer 8
  for (int i = 0; i < fillers; ++i) {
    f.p->produce(idempotent_batch(i * 4, 4, 8, now), [&](result<produce_outcome> r) {
      REQUIRE(r);
      ++answered;
    });
  }
  const offset end{4 + fillers * 4};
  // Until the log has acknowledged everything, not one completion further.
  f.run_until([&] { return f.p->status().high_watermark == end || first.has_value(); });
  REQUIRE_MESSAGE(!first.has_value(), "the completions ran before the log's end was visible");
  config.retention_bytes = 1;
  REQUIRE(f.p->reconfigure(config));
  REQUIRE(f.p->enforce_retention());
  REQUIRE(f.p->status().log_start_offset > offset{0});
  f.run_until([&] { return first.has_value() && answered == fillers; });
  REQUIRE(*first);
  f.crash();

  f.open(config);
  auto retry = f.produce(idempotent_batch(0, 4, 5, now));
  REQUIRE(retry);
  CHECK(retry->duplicate);
  CHECK(retry->base_offset == offset{0});
  CHECK(f.p->status().log_end_offset == end);
}

// Retention writes the snapshot after its checkpoint and before deleting: a crash in between
// leaves segments below the log start, which open folds into the snapshot before it deletes them.
TEST_CASE("segments a crash left below the log start go into the producer snapshot") {
  retention_case c;
  auto& [f, config, now, s] = c;
  const auto dir = f.dir.path() / "t-0";
  const auto saved = f.dir.path() / "saved";
  std::filesystem::copy(dir, saved);
  delete_below(f, config, s.lone->base_offset);
  f.crash();
  // As if the broker had died right after retention's checkpoint: the snapshot not yet written,
  // the segments not yet deleted.
  std::filesystem::remove(dir / "producer-state.snapshot");
  for (const auto& e : std::filesystem::directory_iterator(saved)) {
    if (e.path().extension() != ".log") continue;
    std::filesystem::copy(e.path(), dir / e.path().filename(),
                          std::filesystem::copy_options::skip_existing);
  }

  f.open(config);
  CHECK(f.p->status().log_start_offset > s.lone->base_offset);
  CHECK(std::filesystem::exists(dir / "producer-state.snapshot"));
  check_retries_recognised(f, s, now);
}

// The same when the partition had only the last two segments' producer state when retention
// ran (opened after a crash, no retry yet): the deleted segments' headers are read instead.
TEST_CASE("retention after a partial restore keeps the deleted segments' producer state") {
  retention_case c;
  auto& [f, config, now, s] = c;
  f.close();
  std::filesystem::remove(f.dir.path() / "t-0" / "producer-state.snapshot");  // as after a crash
  f.open(config);
  delete_below(f, config, s.lone->base_offset);
  REQUIRE(f.p->status().log_start_offset <= s.kept->base_offset);
  f.close();

  f.open(config);
  check_retries_recognised(f, s, now);
}

TEST_CASE("a clean close saves the producer state up to the log's end") {
  partition_fixture f;
  f.open();
  const auto now = now_ms();
  REQUIRE(f.produce(idempotent_batch(0, 4, 9, now)));
  REQUIRE(f.produce(idempotent_batch(0, 2, 7, now)));
  const auto end = f.p->status().high_watermark;
  f.close();
  auto snap = read_producer_snapshot(f.dir.path() / "t-0");
  REQUIRE(snap);
  REQUIRE(snap->has_value());
  CHECK((*snap)->until == end);
  CHECK((*snap)->table.remembered().size() == 2);

  f.open();
  auto retry = f.produce(idempotent_batch(0, 4, 9, now));
  REQUIRE(retry);
  CHECK(retry->duplicate);
}

// Kafka's producer.id.expiration.ms: a producer that stored nothing for a day is forgotten at
// the next retention check, so the table does not keep every producer id it ever saw (a retry
// after that is a new batch). Aged by when the broker stored its batches: a producer sending
// records with old timestamps (history re-ingested) is not idle.
TEST_CASE("producers idle for a day are forgotten, by the broker's clock where it has one") {
  partition_fixture f;
  f.open();
  const std::int64_t long_ago = 1'000;
  REQUIRE(f.produce(idempotent_batch(0, 2, 7, long_ago)));
  f.crash();  // no snapshot: the state is read from the log, dated by the batch's timestamp
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 2, 8, long_ago)));  // stored now, old records
  REQUIRE(f.p->enforce_retention());
  auto live = f.produce(idempotent_batch(0, 2, 8, long_ago));
  REQUIRE(live);
  CHECK(live->duplicate);
  auto idle = f.produce(idempotent_batch(0, 2, 7, long_ago));
  REQUIRE(idle);
  CHECK_FALSE(idle->duplicate);
}

TEST_CASE("a partition whose producer snapshot is corrupt still opens, from its log alone") {
  partition_fixture f;
  log_config config = small_segments();
  f.open(config);
  const auto now = now_ms();
  for (int i = 0; i < 40; ++i) REQUIRE(f.produce(idempotent_batch(i * 4, 4, 8, now)));
  delete_below(f, config, offset{20});
  f.close();
  const auto snapshot = f.dir.path() / "t-0" / "producer-state.snapshot";
  REQUIRE(std::filesystem::exists(snapshot));
  std::filesystem::resize_file(snapshot, 7);

  f.open(config);
  auto retry = f.produce(idempotent_batch(39 * 4, 4, 8, now));  // its last batch, in the log
  REQUIRE(retry);
  CHECK(retry->duplicate);
  auto next = f.produce(idempotent_batch(40 * 4, 4, 8, now));
  REQUIRE(next);
  CHECK_FALSE(next->duplicate);
}

TEST_CASE("a waiting fetch is woken by the next append, or at once if data is already there") {
  partition_fixture f;
  f.open();
  int woken = 0;
  auto count = [&](const partition&) { ++woken; };
  auto never_gone = [] { FAIL("the partition is still there"); };
  auto waiter = std::make_shared<data_waiter>(count, never_gone);
  f.p->add_waiter(waiter, offset{0});
  CHECK(woken == 0);
  REQUIRE(f.produce(idempotent_batch(0, 1)));
  CHECK(woken == 1);
  REQUIRE(f.produce(idempotent_batch(1, 1)));
  CHECK(woken == 1);  // once only
  auto late = std::make_shared<data_waiter>(count, never_gone);
  f.p->add_waiter(late, offset{0});  // offset 0 is readable now
  CHECK(woken == 2);
}

TEST_CASE("a woken fetch reads what arrived from the partition it is handed") {
  partition_fixture f;
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 2)));
  std::optional<read_outcome> seen;
  auto waiter = std::make_shared<data_waiter>(
      [&](const partition& p) { seen = p.read(offset{2}, 1 << 20); }, [] { FAIL("not closed"); });
  f.p->add_waiter(waiter, offset{2});
  CHECK_FALSE(seen);
  REQUIRE(f.produce(idempotent_batch(2, 3)));
  REQUIRE(seen);
  CHECK(seen->high_watermark == offset{5});
  REQUIRE(seen->slice);
  CHECK(seen->slice->next_offset == offset{5});
  CHECK_FALSE(seen->slice->empty());
}

TEST_CASE("closing a partition tells a fetch waiting on it that no data will come") {
  partition_fixture f;
  f.open();
  int woken = 0;
  int gone = 0;
  auto waiter = std::make_shared<data_waiter>([&](const partition&) { ++woken; }, [&] { ++gone; });
  f.p->add_waiter(waiter, offset{0});
  auto dropped = std::make_shared<data_waiter>([&](const partition&) { ++woken; }, [&] { ++gone; });
  f.p->add_waiter(dropped, offset{0});
  dropped.reset();  // its fetch answered already: nothing to tell
  f.close();
  CHECK(gone == 1);
  CHECK(woken == 0);
  waiter->gone();  // once only, like wake()
  CHECK(gone == 1);
}

TEST_CASE("offsets by spec: earliest, latest and by timestamp") {
  partition_fixture f;
  f.open();
  REQUIRE(f.produce(idempotent_batch(0, 3)));
  CHECK(f.p->offset_for(-2)->found == std::optional<offset>{offset{0}});
  CHECK(f.p->offset_for(-1)->found == std::optional<offset>{offset{3}});
  CHECK(f.p->offset_for(1'700'000'000'001)->found == std::optional<offset>{offset{1}});
  CHECK_FALSE(f.p->offset_for(1'800'000'000'000)->found.has_value());
  for (const std::int64_t spec :
       {std::int64_t{-2}, std::int64_t{-1}, std::int64_t{1'800'000'000'000}}) {
    CHECK(f.p->offset_for(spec)->log_end == offset{3});  // as of the same lookup
  }
}

TEST_CASE("an oversized batch is refused before it counts, so the next one cannot skip it") {
  partition_fixture f;
  log_config small;
  small.max_message_bytes = 200;
  f.open(small);
  REQUIRE(f.produce(idempotent_batch(0, 1)));  // the broker knows this producer now
  std::optional<result<produce_outcome>> big;
  std::optional<result<produce_outcome>> next;
  f.p->produce(idempotent_batch(1, 10), [&](auto r) { big = r; });  // well above 200 bytes
  f.p->produce(idempotent_batch(11, 1), [&](auto r) { next = r; });
  f.run_until([&] { return big && next; });
  REQUIRE_FALSE(*big);
  CHECK(big->error().code == log_errc::batch_too_large);
  CHECK(big->error().detail.find("exceeds max.message.bytes 200") != std::string::npos);
  REQUIRE_FALSE(*next);
  CHECK(next->error().code == broker_errc::out_of_order_sequence);
  CHECK(f.p->status().high_watermark == offset{1});
}
