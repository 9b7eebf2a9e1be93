// sluice-compare-redis: the Redis Streams side of perf/compare, through hiredis.
//
//   produce --port P --key K --record-size B (--seconds S | --count N) [--rate R] [--window W]
//           [--keys M]
//       XADD K * v <value> (with --keys M > 1: to stream K-<n mod M>, M streams), pipelined:
//       up to W commands unanswered (default 1024), sent at R
//       records/s (default: as fast as the window allows). Latency: from writing a command to
//       reading its reply (replies come in order).
//   e2e --port P --key K --record-size B (--seconds S | --count N) [--rate R] [--window W]
//       produce's sends (one stream, the send time in each value's first 8 bytes, as `sluice
//       perf e2e`) with a consumer on a second connection reading the new entries with
//       XREAD BLOCK as they come. Latency: from the send to the consumer's receipt.
//   replay --port P --key K [--batch N]
//       XRANGE K <after last> + COUNT N (default 10000) from the first entry up to the stream's
//       length at the start: records/s and MiB/s of values read.
//
// One JSON line (driver_common.h). The socket is non-blocking and driven with poll(), so sends
// at a fixed rate are never held back by replies not yet read.

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>

#include <atomic>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "perf/peers/driver_common.h"

namespace sluice::compare {
namespace {

using reply_ptr = std::unique_ptr<redisReply, void (*)(void*)>;

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

context_ptr connect(const options& o) {
  context_ptr c(redisConnect("127.0.0.1", static_cast<int>(o.num("port", 6379))));
  if (!c || c->err) throw std::runtime_error(fmt::format("redis connect: {}", c ? c->errstr : "?"));
  return c;
}

reply_ptr command(redisContext* c, std::initializer_list<std::string> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (r == nullptr) throw std::runtime_error(fmt::format("redis: {}", c->errstr));
  if (r->type == REDIS_REPLY_ERROR) {
    std::string e(r->str, r->len);
    freeReplyObject(r);
    throw std::runtime_error("redis: " + e);
  }
  return {r, freeReplyObject};
}

// What the sending side of produce and e2e measured.
struct send_outcome {
  std::uint64_t acked = 0, failed = 0, bytes = 0, keys = 1;
  double seconds = 0;
  cli::latency_histogram latency;  // send-to-reply
};

send_outcome send_all(const options& o, bool stamp) {
  auto c = connect(o);
  const auto fd = c->fd;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  c->flags &= ~REDIS_BLOCK;

  const std::string key = o.str("key", "bench");
  const auto record_size = static_cast<std::size_t>(o.num("record-size", 1024));
  const target t{static_cast<std::uint64_t>(o.num("count", 0)), o.num("seconds", 0)};
  const cli::rate_limiter limiter(o.num("rate", -1));
  const auto window = static_cast<std::size_t>(o.num("window", 1024));
  const cli::payload_source payload(record_size);
  const auto keys = static_cast<std::uint64_t>(o.num("keys", 1));
  std::vector<std::string> names;
  for (std::uint64_t k = 0; k < keys; ++k) {
    names.push_back(keys > 1 ? fmt::format("{}-{}", key, k) : key);
  }

  cli::latency_histogram latency;
  std::deque<clock::time_point> in_flight;
  std::uint64_t sent = 0, acked = 0, failed = 0, bytes = 0;
  const auto start = clock::now();
  bool sending = true;
  while (sending || !in_flight.empty()) {
    const auto now = clock::now();
    if (sending && !t.more(sent, now - start)) sending = false;
    // Queue what is due, within the window.
    while (sending && in_flight.size() < window && t.more(sent, clock::now() - start)) {
      if (!limiter.unlimited() && limiter.delay_before(sent, clock::now() - start).count() > 0)
        break;
      std::string value = payload.value(sent);
      if (stamp) cli::stamp_send_time(value, steady_ns());
      const std::string& stream = names[sent % keys];
      const char* argv[] = {"XADD", stream.c_str(), "*", "v", value.data()};
      const std::size_t lens[] = {4, stream.size(), 1, 1, value.size()};
      redisAppendCommandArgv(c.get(), 5, argv, lens);
      in_flight.push_back(clock::now());
      ++sent;
    }
    int done = 0;
    if (redisBufferWrite(c.get(), &done) != REDIS_OK) throw std::runtime_error(c->errstr);
    // Wait for replies, room to write, or the next send time.
    int timeout_ms = 100;
    if (sending && in_flight.size() < window) {
      const auto wait = limiter.unlimited() ? std::chrono::nanoseconds(0)
                                            : limiter.delay_before(sent, clock::now() - start);
      timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    }
    pollfd p{fd, static_cast<short>(POLLIN | (done ? 0 : POLLOUT)), 0};
    // Sub-millisecond waits: poll(0) and spin, so 50 000/s pacing stays accurate.
    if (::poll(&p, 1, timeout_ms > 1 ? timeout_ms - 1 : 0) < 0) continue;
    if ((p.revents & POLLIN) == 0) continue;
    if (redisBufferRead(c.get()) != REDIS_OK) throw std::runtime_error(c->errstr);
    void* reply = nullptr;
    while (redisReaderGetReply(c->reader, &reply) == REDIS_OK && reply != nullptr) {
      auto* r = static_cast<redisReply*>(reply);
      if (in_flight.empty()) throw std::runtime_error("redis: reply without a command");
      if (r->type == REDIS_REPLY_ERROR) {
        ++failed;
      } else {
        latency.record(clock::now() - in_flight.front());
        ++acked;
        bytes += record_size;
      }
      in_flight.pop_front();
      freeReplyObject(r);
      reply = nullptr;
    }
  }
  const std::chrono::duration<double> took = clock::now() - start;
  return {acked, failed, bytes, keys, took.count(), std::move(latency)};
}

int produce(const options& o) {
  const auto r = send_all(o, false);
  print_figures("redis", "produce", r.acked, r.bytes, r.failed, r.seconds, &r.latency,
                {{"keys", r.keys}});
  return r.failed == 0 ? 0 : 1;
}

// The consumer of e2e: XREAD BLOCK from the stream's start (a fresh stream: every entry is
// this run's) until `expected` is set and that many entries came, or 10 s pass without one.
struct e2e_receiver {
  cli::latency_histogram latency;
  std::uint64_t received = 0, bytes = 0;
  std::atomic<std::int64_t> expected{-1};
  std::string error;

  void run(const options& o) {
    try {
      auto c = connect(o);
      const std::string key = o.str("key", "bench");
      std::string last = "0-0";
      auto idle_since = clock::now();
      while (expected < 0 || received < static_cast<std::uint64_t>(expected.load())) {
        if (clock::now() - idle_since > std::chrono::seconds(10)) {
          error = fmt::format("no entry for 10 s after {} received", received);
          return;
        }
        auto r = command(c.get(), {"XREAD", "COUNT", "1000", "BLOCK", "100", "STREAMS", key, last});
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) continue;  // nil: timed out
        const redisReply* entries = r->element[0]->element[1];  // [[key, [[id, [f, v]], ...]]]
        const auto now = steady_ns();
        for (std::size_t i = 0; i < entries->elements; ++i) {
          const redisReply* fields = entries->element[i]->element[1];
          const redisReply* value = fields->element[1];
          const auto sent = cli::read_send_time(std::string_view(value->str, value->len));
          if (sent) latency.record(std::chrono::nanoseconds(now - *sent));
          bytes += value->len;
          ++received;
        }
        const redisReply* id = entries->element[entries->elements - 1]->element[0];
        last.assign(id->str, id->len);
        idle_since = clock::now();
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
};

int e2e(const options& o) {
  if (o.num("record-size", 1024) < cli::send_time_bytes) {
    throw std::invalid_argument("--record-size < 8");
  }
  e2e_receiver receiver;
  std::thread consumer([&] { receiver.run(o); });
  const auto start = clock::now();
  const auto sent = send_all(o, true);
  receiver.expected = static_cast<std::int64_t>(sent.acked);
  consumer.join();
  const std::chrono::duration<double> took = clock::now() - start;
  if (!receiver.error.empty()) throw std::runtime_error("consumer: " + receiver.error);
  print_figures("redis", "e2e", receiver.received, receiver.bytes, sent.failed, took.count(),
                &receiver.latency, {{"latency", "end-to-end"}});
  return sent.failed == 0 ? 0 : 1;
}

int replay(const options& o) {
  auto c = connect(o);
  const std::string key = o.str("key", "bench");
  const std::string batch = fmt::format("{}", static_cast<long>(o.num("batch", 10000)));
  const auto total = static_cast<std::uint64_t>(command(c.get(), {"XLEN", key})->integer);
  std::uint64_t records = 0, bytes = 0;
  std::string from = "-";
  const auto start = clock::now();
  while (records < total) {
    auto r = command(c.get(), {"XRANGE", key, from, "+", "COUNT", batch});
    if (r->elements == 0) break;
    for (std::size_t i = 0; i < r->elements; ++i) {
      const redisReply* entry = r->element[i];  // [id, [field, value, ...]]
      const redisReply* fields = entry->element[1];
      for (std::size_t f = 1; f < fields->elements; f += 2) bytes += fields->element[f]->len;
      ++records;
    }
    const redisReply* last_id = r->element[r->elements - 1]->element[0];
    from = "(" + std::string(last_id->str, last_id->len);
  }
  const std::chrono::duration<double> took = clock::now() - start;
  print_figures("redis", "replay", records, bytes, 0, took.count(), nullptr);
  return records == total ? 0 : 1;
}

}  // namespace
}  // namespace sluice::compare

int main(int argc, char** argv) {
  try {
    const sluice::compare::options o(argc, argv);
    if (o.mode() == "produce") return sluice::compare::produce(o);
    if (o.mode() == "e2e") return sluice::compare::e2e(o);
    if (o.mode() == "replay") return sluice::compare::replay(o);
    fmt::print(stderr, "sluice-compare-redis: unknown mode {}\n", o.mode());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice-compare-redis: {}\n", e.what());
    return 1;
  }
}
