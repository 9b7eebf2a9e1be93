// sluice-compare-nats: the NATS JetStream side of perf/compare, through the C client (cnats).
//
//   create --port P --stream S [--keys M]   a stream S on subject S, file storage, 1 replica
//                                           (--keys M > 1: M streams S-0 .. S-<M-1>)
//   delete --port P --stream S [--keys M]
//   produce --port P --stream S --record-size B (--seconds S | --count N) [--rate R] [--window W]
//           [--keys M]
//       js_PublishAsync to subject S (--keys M > 1: to S-<n mod M>, M streams) with up to W
//       publishes unacknowledged (default 1024), sent
//       at R records/s (default: as fast as the window allows). Latency: from the publish call
//       to its PubAck (the send time travels in the value's first 8 bytes, as `sluice perf e2e`
//       does, and the ack handler gets the original message back).
//   e2e --port P --stream S --record-size B (--seconds S | --count N) [--rate R] [--window W]
//       produce's publishes to one stream with a consumer reading it as they are stored: an
//       ephemeral push consumer (deliver all, ack none) on a second connection. Latency: from
//       the publish call to the consumer's receipt of the message.
//   replay --port P --stream S [--batch N]
//       an ephemeral pull consumer (deliver all, ack none) fetching N messages at a time
//       (default 1000) up to the stream's message count at the start.
//
// One JSON line (driver_common.h).

#include <nats/nats.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "perf/peers/driver_common.h"

namespace sluice::compare {
namespace {

void check(natsStatus s, const std::string& what, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  if (s == NATS_OK) return;
  throw std::runtime_error(fmt::format("nats {}: {} (js error {}, {})", what, natsStatus_GetText(s),
                                       static_cast<int>(jerr), nats_GetLastError(nullptr)));
}

struct session {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  session(const options& o, jsOptions* jo) {
    const auto url = fmt::format("nats://127.0.0.1:{}", static_cast<int>(o.num("port", 4222)));
    check(natsConnection_ConnectTo(&nc, url.c_str()), "connect " + url);
    check(natsConnection_JetStream(&js, nc, jo), "jetstream");
  }
  ~session() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;
};

std::vector<std::string> names_of(const options& o) {
  const std::string base = o.str("stream", "bench");
  const auto keys = static_cast<std::uint64_t>(o.num("keys", 1));
  std::vector<std::string> names;
  for (std::uint64_t k = 0; k < keys; ++k) {
    names.push_back(keys > 1 ? fmt::format("{}-{}", base, k) : base);
  }
  return names;
}

void create_one(session& s, const std::string& name) {
  const char* subjects[] = {name.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = 1;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr{};
  check(js_AddStream(&si, s.js, &cfg, nullptr, &jerr), "add stream " + name, jerr);
  jsStreamInfo_Destroy(si);
}

int create(const options& o) {
  session s(o, nullptr);
  for (const auto& name : names_of(o)) create_one(s, name);
  return 0;
}

int remove(const options& o) {
  session s(o, nullptr);
  for (const auto& name : names_of(o)) {
    jsErrCode jerr{};
    check(js_DeleteStream(s.js, name.c_str(), nullptr, &jerr), "delete stream " + name, jerr);
  }
  return 0;
}

// An ephemeral consumer of stream `name` from its first message, acknowledging nothing.
jsSubOptions read_all_unacked(const std::string& name) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = name.c_str();
  so.Config.DeliverPolicy = js_DeliverAll;
  so.Config.AckPolicy = js_AckNone;
  return so;
}

void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr*, void* closure) {
  auto& st = *static_cast<ack_state*>(closure);
  const auto now = steady_ns();
  const auto len = static_cast<std::size_t>(natsMsg_GetDataLength(msg));
  const auto sent = cli::read_send_time(std::string_view(natsMsg_GetData(msg), len));
  {
    std::lock_guard lock(st.mutex);
    if (pa != nullptr && sent) {
      st.latency.record(std::chrono::nanoseconds(now - *sent));
      ++st.acked;
      st.bytes += len;
    } else {
      ++st.failed;
    }
  }
  natsMsg_Destroy(msg);
}

// Publishes every record (stamped with its send time) within the window and waits for the
// last PubAck; `st` collects the acknowledgements.
double publish_all(const options& o, ack_state& st) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = static_cast<int64_t>(o.num("window", 1024));
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = &st;
  jo.PublishAsync.StallWait = 60'000;  // block when the window is full, never fail
  session s(o, &jo);

  const auto subjects = names_of(o);
  const auto record_size = static_cast<std::size_t>(o.num("record-size", 1024));
  if (record_size < cli::send_time_bytes) throw std::invalid_argument("--record-size < 8");
  const target t{static_cast<std::uint64_t>(o.num("count", 0)), o.num("seconds", 0)};
  const cli::rate_limiter limiter(o.num("rate", -1));
  const cli::payload_source payload(record_size);

  const auto start = clock::now();
  std::uint64_t sent = 0;
  for (; t.more(sent, clock::now() - start); ++sent) {
    pace(limiter, sent, start);
    auto value = payload.value(sent);
    cli::stamp_send_time(value, steady_ns());
    check(js_PublishAsync(s.js, subjects[sent % subjects.size()].c_str(), value.data(),
                          static_cast<int>(value.size()), nullptr),
          "publish");
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120'000;
  check(js_PublishAsyncComplete(s.js, &po), "publish complete");
  const std::chrono::duration<double> took = clock::now() - start;
  return took.count();
}

int produce(const options& o) {
  ack_state st;
  const double seconds = publish_all(o, st);
  std::lock_guard lock(st.mutex);
  print_figures("nats", "produce", st.acked, st.bytes, st.failed, seconds, &st.latency,
                {{"keys", names_of(o).size()}});
  return st.failed == 0 ? 0 : 1;
}

void on_delivered(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& st = *static_cast<ack_state*>(closure);  // acked = messages received
  const auto now = steady_ns();
  const auto len = static_cast<std::size_t>(natsMsg_GetDataLength(msg));
  const auto sent = cli::read_send_time(std::string_view(natsMsg_GetData(msg), len));
  {
    std::lock_guard lock(st.mutex);
    if (sent) st.latency.record(std::chrono::nanoseconds(now - *sent));
    ++st.acked;
    st.bytes += len;
  }
  natsMsg_Destroy(msg);
}

// Until `expected` messages came to `received` (on_delivered), or 10 s pass without one.
void wait_for_deliveries(ack_state& received, std::uint64_t expected) {
  std::uint64_t last_count = 0;
  auto idle_since = clock::now();
  for (;;) {
    std::uint64_t got = 0;
    {
      std::lock_guard lock(received.mutex);
      got = received.acked;
    }
    if (got >= expected) return;
    if (got != last_count) {
      last_count = got;
      idle_since = clock::now();
    } else if (clock::now() - idle_since > std::chrono::seconds(10)) {
      throw std::runtime_error(
          fmt::format("consumer: {} of {} messages after 10 s idle", got, expected));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int e2e(const options& o) {
  const std::string name = o.str("stream", "bench");
  ack_state received;
  session consumer(o, nullptr);
  jsSubOptions so = read_all_unacked(name);
  natsSubscription* sub = nullptr;
  jsErrCode jerr{};
  check(js_Subscribe(&sub, consumer.js, name.c_str(), on_delivered, &received, nullptr, &so, &jerr),
        "subscribe", jerr);
  // Deliveries queue up in the client while the callback runs; no limit, none dropped.
  check(natsSubscription_SetPendingLimits(sub, -1, -1), "pending limits");

  ack_state acks;
  const auto start = clock::now();
  publish_all(o, acks);
  std::uint64_t stored = 0, failed = 0;
  {
    std::lock_guard lock(acks.mutex);
    stored = acks.acked;
    failed = acks.failed;
  }
  wait_for_deliveries(received, stored);
  const std::chrono::duration<double> took = clock::now() - start;
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  std::lock_guard lock(received.mutex);
  print_figures("nats", "e2e", received.acked, received.bytes, failed, took.count(),
                &received.latency, {{"latency", "end-to-end"}});
  return failed == 0 ? 0 : 1;
}

int replay(const options& o) {
  session s(o, nullptr);
  const std::string name = o.str("stream", "bench");
  const int batch = static_cast<int>(o.num("batch", 1000));
  jsErrCode jerr{};
  jsStreamInfo* si = nullptr;
  check(js_GetStreamInfo(&si, s.js, name.c_str(), nullptr, &jerr), "stream info", jerr);
  const std::uint64_t total = si->State.Msgs;
  jsStreamInfo_Destroy(si);

  jsSubOptions so = read_all_unacked(name);
  natsSubscription* sub = nullptr;
  const auto start = clock::now();
  check(js_PullSubscribe(&sub, s.js, name.c_str(), nullptr, nullptr, &so, &jerr), "subscribe",
        jerr);
  std::uint64_t records = 0, bytes = 0;
  while (records < total) {
    natsMsgList list{};
    const auto st = natsSubscription_Fetch(&list, sub, batch, 5000, &jerr);
    if (st == NATS_TIMEOUT) break;
    check(st, "fetch", jerr);
    for (int i = 0; i < list.Count; ++i) {
      bytes += static_cast<std::uint64_t>(natsMsg_GetDataLength(list.Msgs[i]));
      ++records;
    }
    natsMsgList_Destroy(&list);
  }
  const std::chrono::duration<double> took = clock::now() - start;
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  print_figures("nats", "replay", records, bytes, 0, took.count(), nullptr);
  return records == total ? 0 : 1;
}

}  // namespace
}  // namespace sluice::compare

int main(int argc, char** argv) {
  int rc = 2;
  try {
    const sluice::compare::options o(argc, argv);
    if (o.mode() == "create")
      rc = sluice::compare::create(o);
    else if (o.mode() == "delete")
      rc = sluice::compare::remove(o);
    else if (o.mode() == "produce")
      rc = sluice::compare::produce(o);
    else if (o.mode() == "e2e")
      rc = sluice::compare::e2e(o);
    else if (o.mode() == "replay")
      rc = sluice::compare::replay(o);
    else
      fmt::print(stderr, "sluice-compare-nats: unknown mode {}\n", o.mode());
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice-compare-nats: {}\n", e.what());
    rc = 1;
  }
  nats_Close();
  return rc;
}
