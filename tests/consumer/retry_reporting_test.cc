// Transient failures are retried, and told to the caller only once they have lasted
// request_timeout: a fetch that timed out is retried on a new connection as a lost one is, and a
// partition the broker answers with a retriable error (not_leader) is reported while the
// consumer keeps retrying it. Against a broker written by hand that misbehaves on purpose.

#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "consumer/consumer.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"
#include "tests/consumer/consumer_test_util.h"
#include "tests/consumer/scripted_answers.h"
#include "tests/protocol/fake_broker.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using clock = std::chrono::steady_clock;

using test::answer_list_offsets;
using test::answer_metadata;
using test::answer_records;

// No records: the broker's error for the partition, as a broker that does not lead it answers.
void answer_not_leader(tcp::socket& s, const test::received_request& req) {
  flatbuffers::FlatBufferBuilder fbb;
  auto partition = wire::CreateFetchPartitionResult(
      fbb, 0, wire::ErrorCode::not_leader, fbb.CreateString("this broker does not lead t-0"));
  auto topic =
      wire::CreateFetchTopicResult(fbb, fbb.CreateString("t"), fbb.CreateVector(&partition, 1));
  test::write_message(s, fbb, req.request().request_id(),
                      wire::CreateFetchResponse(fbb, fbb.CreateVector(&topic, 1)), 0);
}

// A broker of one topic "t" with one partition, serving one connection at a time on its own
// thread, as long as the test lives; how Fetch requests are answered (or not) is the test's.
class scripted_broker {
 public:
  using fetch_handler = std::function<void(tcp::socket&, const test::received_request&)>;

  explicit scripted_broker(fetch_handler on_fetch)
      : on_fetch_(std::move(on_fetch)),
        listener_(ctx_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)),
        port_(listener_.local_endpoint().port()),
        thread_([this](std::stop_token stop) { accept_loop(stop); }) {}

  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int connections() const { return connections_; }
  // From now on requests are read and never answered, ApiVersions on a new connection too: a
  // broker that stopped (SIGSTOP) while its kernel still accepts connections.
  void go_silent() { silent_ = true; }

 private:
  // Polls for connections, so that the thread ends when the test does.
  void accept_loop(const std::stop_token& stop) {
    listener_.non_blocking(true);
    while (!stop.stop_requested()) {
      boost::system::error_code ec;
      tcp::socket s = listener_.accept(ec);
      if (ec) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      s.non_blocking(false);
      ++connections_;
      serve(s);
    }
  }

  // Until the consumer closes the connection.
  void serve(tcp::socket& s) {
    try {
      for (;;) {
        const auto req = test::read_request(s);
        if (silent_) continue;
        const auto id = req.request().request_id();
        switch (req.request().body_type()) {
          case wire::RequestBody::ApiVersionsRequest:
            test::accept_every_version(s, id);
            break;
          case wire::RequestBody::MetadataRequest:
            answer_metadata(s, id, port_);
            break;
          case wire::RequestBody::ListOffsetsRequest:
            answer_list_offsets(s, id);
            break;
          case wire::RequestBody::FetchRequest:
            on_fetch_(s, req);
            break;
          default:
            FAIL("unexpected request " << wire::EnumNameRequestBody(req.request().body_type()));
        }
      }
    } catch (const boost::system::system_error&) {  // the consumer closed the connection
    }
  }

  fetch_handler on_fetch_;
  boost::asio::io_context ctx_;
  tcp::acceptor listener_;
  std::uint16_t port_;
  std::atomic<int> connections_{0};
  std::atomic<bool> silent_{false};
  std::jthread thread_;  // last: stopped and joined before the rest goes
};

struct polled {
  std::int64_t next_offset = 0;  // records came in order from 0 up to here
  std::vector<error> errors;
};

// Polls until `records` records came (each checked to be the next) or `limit` passed.
polled poll_records(consumer& c, std::int64_t records, std::chrono::milliseconds limit) {
  polled out;
  const auto deadline = clock::now() + limit;
  while (out.next_offset < records && clock::now() < deadline) {
    auto r = c.poll(50ms);
    if (!r) {
      out.errors.push_back(r.error());
      continue;
    }
    for (const auto& record : *r) {
      REQUIRE(record.offset == out.next_offset);  // none skipped, none twice
      ++out.next_offset;
    }
  }
  return out;
}

std::unique_ptr<consumer> consumer_at_zero(const scripted_broker& b,
                                           std::chrono::milliseconds request_timeout) {
  auto c = consumer::create(
               {.brokers = b.address(), .fetch_max_wait = 50ms, .request_timeout = request_timeout})
               .value();
  const topic_partition tp{"t", 0};
  REQUIRE(c->assign({tp}));
  REQUIRE(c->seek(tp, 0));
  return c;
}

}  // namespace

TEST_CASE("a fetch that timed out once is retried on a new connection without an error") {
  std::atomic<int> fetches{0};
  scripted_broker b([&](tcp::socket& s, const test::received_request& req) {
    if (++fetches == 1) return;  // left unanswered: the fetch times out
    answer_records(s, req);
  });
  auto c = consumer_at_zero(b, 1000ms);  // ample time to reconnect within it
  const auto got = poll_records(*c, 40, 10s);
  CHECK(got.next_offset >= 40);
  for (const auto& e : got.errors) {
    CAPTURE(e.message());
    FAIL_CHECK("reported an outage shorter than request_timeout");
  }
  CHECK(b.connections() >= 2);  // the timed-out connection was replaced
  c->close();
}

TEST_CASE("fetches that keep timing out are reported once they have lasted request_timeout") {
  std::atomic<bool> silent{true};
  scripted_broker b([&](tcp::socket& s, const test::received_request& req) {
    if (!silent) answer_records(s, req);
  });
  auto c = consumer_at_zero(b, 300ms);
  const auto start = clock::now();
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  while (r && clock::now() - start < 10s) r = c->poll(50ms);
  const auto waited = clock::now() - start;
  REQUIRE_MESSAGE(!r.has_value(), "the outage was reported");
  CAPTURE(r.error().message());
  CHECK(r.error().code == client_errc::timed_out);
  CHECK(r.error().detail.find("keeps retrying") != std::string::npos);
  // The first timeout comes after request_timeout + fetch_max_wait (350 ms); it is reported only
  // once the failures have lasted request_timeout more.
  CHECK(waited >= 600ms);
  silent = false;
  const auto got = poll_records(*c, 20, 10s);
  CHECK(got.next_offset >= 20);
  c->close();
}

// After the fetch times out, the new connection's handshake waits for connect_timeout (10 s):
// no failure comes meanwhile, and the outage is reported all the same once it has lasted.
TEST_CASE("a broker that stopped answering is reported after request_timeout, not later") {
  scripted_broker b(
      [](tcp::socket& s, const test::received_request& req) { answer_records(s, req); });
  auto c = consumer_at_zero(b, 500ms);
  REQUIRE(poll_records(*c, 20, 10s).next_offset >= 20);
  b.go_silent();
  const auto start = clock::now();
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  while (r && clock::now() - start < 8s) r = c->poll(50ms);
  const auto waited = clock::now() - start;
  REQUIRE_MESSAGE(!r.has_value(), "the outage was reported");
  CAPTURE(r.error().message());
  CHECK(r.error().code == client_errc::timed_out);
  // The fetch times out after request_timeout + fetch_max_wait; the report follows after
  // another request_timeout.
  CHECK(waited >= 500ms);
  CHECK(waited < 4s);
  c->close();
}

TEST_CASE("a partition the broker keeps refusing as not led is reported, and still retried") {
  std::atomic<bool> refusing{true};
  std::atomic<int> refusals{0};
  scripted_broker b([&](tcp::socket& s, const test::received_request& req) {
    if (refusing) {
      ++refusals;
      answer_not_leader(s, req);
    } else {
      answer_records(s, req);
    }
  });
  auto c = consumer_at_zero(b, 500ms);
  const auto start = clock::now();
  result<std::vector<consumer_record>> r = std::vector<consumer_record>{};
  while (r && r->empty() && clock::now() - start < 10s) r = c->poll(50ms);
  const auto waited = clock::now() - start;
  REQUIRE_MESSAGE(!r.has_value(), "the partition's error was reported");
  CAPTURE(r.error().message());
  CHECK(r.error().code == wire::ErrorCode::not_leader);
  CHECK(r.error().detail.find("t-0") != std::string::npos);
  CHECK(r.error().detail.find("does not lead") != std::string::npos);
  CHECK(r.error().detail.find("keeps retrying") != std::string::npos);
  CHECK(waited >= 500ms);  // not before request_timeout
  CHECK(refusals >= 3);    // retried meanwhile
  // Reported again while it lasts, not at every retry.
  const int refusals_before = refusals;
  int reports = 0;
  const auto again = clock::now();
  while (clock::now() - again < 1200ms) {
    if (!c->poll(50ms)) ++reports;
  }
  CHECK(reports >= 1);
  CHECK(reports <= 3);
  CHECK(refusals - refusals_before >= 5);
  // The partition was never stopped: its records come once the broker serves it.
  refusing = false;
  const auto got = poll_records(*c, 20, 10s);
  CHECK(got.next_offset >= 20);
  c->close();
}

}  // namespace sluice
