// client_connection: a connection whose loop stops before the broker answers must not outlive
// it (its handlers hold the caller's state); a response's message reaches the header handler
// before its payload has arrived; a one-way frame the broker does not read times out; a name
// whose DNS server never answers ends the connect at connect_timeout.

#include "protocol/client/client_connection.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>

#include "protocol/client/client_errc.h"
#include "protocol/frame.h"
#include "tests/protocol/fake_broker.h"

namespace sluice {
namespace {

using boost::asio::ip::tcp;
using test::write_message;

// A broker that accepts every version of every request, then answers one Fetch with a message
// saying where the partition continues and 1 000 bytes of payload, sent only once `release`.
void serve_one_fetch(tcp::socket& s, const std::atomic<bool>& release) {
  test::accept_every_version(s, test::read_request(s).request().request_id());
  const auto fetch_id = test::read_request(s).request().request_id();
  flatbuffers::FlatBufferBuilder fbb;
  const wire::PayloadRange records(0, 1000);
  auto partition =
      wire::CreateFetchPartitionResult(fbb, 0, wire::ErrorCode::none, 0, 500, 0, &records, 42);
  auto topic =
      wire::CreateFetchTopicResult(fbb, fbb.CreateString("t"), fbb.CreateVector(&partition, 1));
  write_message(s, fbb, fetch_id, wire::CreateFetchResponse(fbb, fbb.CreateVector(&topic, 1)),
                1000);
  while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const byte_buffer payload(1000, std::byte{7});
  boost::asio::write(s, boost::asio::buffer(payload));
}

request_builder fetch_of_partition_0() {
  request_builder req;
  auto& fbb = req.fbb();
  auto part = wire::CreateFetchPartition(fbb, 0, 0);
  auto topic = wire::CreateFetchTopic(fbb, fbb.CreateString("t"), fbb.CreateVector(&part, 1));
  req.set_body(wire::CreateFetchRequest(fbb, 0, 1, 1 << 20, fbb.CreateVector(&topic, 1)));
  return req;
}

// Runs ctx until done() or `limit` has passed; done()'s last answer.
template <class Done>
bool run_until(boost::asio::io_context& ctx, const Done& done,
               std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ctx.run_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A connection to `addr`, its handshake done.
std::shared_ptr<client_connection> connect(boost::asio::io_context& ctx, const broker_address& addr,
                                           client_connection::options opts = {}) {
  std::shared_ptr<client_connection> conn;
  client_connection::async_connect(ctx.get_executor(), addr, std::move(opts), [&](auto c) {
    REQUIRE(c.has_value());
    conn = *c;
  });
  REQUIRE(run_until(ctx, [&] { return conn != nullptr; }));
  return conn;
}

}  // namespace

TEST_CASE("a response's message reaches the header handler before its payload has arrived") {
  boost::asio::io_context ctx;
  tcp::acceptor listener(ctx, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  std::atomic<bool> release_payload = false;
  std::thread broker([&] {
    tcp::socket s = listener.accept();
    serve_one_fetch(s, release_payload);
  });
  const broker_address addr{"127.0.0.1", listener.local_endpoint().port()};
  auto conn = connect(ctx, addr);

  std::int64_t next_offset = -1;
  std::optional<result<response_frame>> answer;
  conn->send(
      fetch_of_partition_0(), [&](result<response_frame> r) { answer = std::move(r); },
      std::chrono::milliseconds(0),
      [&](const wire::Response& header) {
        next_offset = header.body_as_FetchResponse()
                          ->topics()
                          ->Get(0)
                          ->partitions()
                          ->Get(0)
                          ->next_fetch_offset();
      });
  REQUIRE(run_until(ctx, [&] { return next_offset != -1; }));
  CHECK(next_offset == 42);
  CHECK_FALSE(answer.has_value());  // the payload has not been sent yet

  release_payload = true;
  REQUIRE(run_until(ctx, [&] { return answer.has_value(); }));
  REQUIRE(answer->has_value());
  CHECK((*answer)->payload().size() == 1000);
  conn->close();
  broker.join();
}

TEST_CASE("a connection stopped mid-handshake is freed with everything its handler holds") {
  using boost::asio::ip::tcp;
  auto caller_state = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = caller_state;
  {
    boost::asio::io_context ctx;
    // A "broker" that accepts and never answers: the ApiVersions handshake stays pending.
    tcp::acceptor listener(ctx, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket silent_peer(ctx);
    listener.async_accept(silent_peer, [](const boost::system::error_code&) {});
    const broker_address addr{"127.0.0.1", listener.local_endpoint().port()};
    bool handler_ran = false;
    client_connection::async_connect(
        ctx.get_executor(), addr, {},
        [state = std::move(caller_state), &handler_ran](auto) { handler_ran = true; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((!silent_peer.is_open() || silent_peer.available() == 0) &&
           std::chrono::steady_clock::now() < deadline) {
      ctx.run_for(std::chrono::milliseconds(20));
    }
    REQUIRE(silent_peer.available() > 0);  // the ApiVersions request arrived, unanswered
    CHECK_FALSE(handler_ran);
    // The io_context goes away with the handshake pending, as when a client's io thread stops.
  }
  // A connection kept alive by a reference cycle would still hold the handler, and its state.
  CHECK(watch.expired());
}

// What the child of the DNS test reports through its exit status.
enum silent_dns_outcome : int {
  answered_in_time = 0,
  answered_late = 1,
  not_timed_out = 2,
  no_namespaces = 3,  // not root: the test cannot isolate the resolver
  setup_failed = 4,
};

// In namespaces of its own (so nothing else is affected): loopback up, a DNS server on
// 127.0.0.1:53 that reads queries and never answers, and a resolv.conf naming it with a 4 s
// timeout. Connects to a name only that server could resolve, with connect_timeout 300 ms.
// Exits (skipping destructors: Asio's resolver thread is still in getaddrinfo) with the outcome.
[[noreturn]] void connect_through_silent_dns() {
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) ::_exit(no_namespaces);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(setup_failed);
  const int dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq lo{};
  std::strncpy(lo.ifr_name, "lo", IFNAMSIZ - 1);
  if (dns < 0 || ::ioctl(dns, SIOCGIFFLAGS, &lo) != 0) ::_exit(setup_failed);
  lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
  if (::ioctl(dns, SIOCSIFFLAGS, &lo) != 0) ::_exit(setup_failed);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(53);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(dns, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) ::_exit(setup_failed);
  char conf[] = "/tmp/sluice-resolv-XXXXXX";
  const int conf_fd = ::mkstemp(conf);
  constexpr std::string_view text = "nameserver 127.0.0.1\noptions timeout:4 attempts:1\n";
  if (conf_fd < 0 ||
      ::write(conf_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    ::_exit(setup_failed);
  ::close(conf_fd);
  const bool mounted = ::mount(conf, "/etc/resolv.conf", nullptr, MS_BIND, nullptr) == 0;
  ::unlink(conf);
  if (!mounted) ::_exit(setup_failed);

  boost::asio::io_context ctx;
  client_connection::options opts;
  opts.connect_timeout = std::chrono::milliseconds(300);
  std::optional<result<std::shared_ptr<client_connection>>> outcome;
  const auto started = std::chrono::steady_clock::now();
  auto conn = client_connection::async_connect(ctx.get_executor(),
                                               broker_address{"broker.sluice-test", 9190}, opts,
                                               [&](auto r) { outcome = std::move(r); });
  run_until(ctx, [&] { return outcome.has_value(); });
  const auto took = std::chrono::steady_clock::now() - started;
  if (!outcome) ::_exit(answered_late);
  if (*outcome || outcome->error().code != make_error_code(client_errc::timed_out)) {
    ::_exit(not_timed_out);
  }
  ::_exit(took < std::chrono::seconds(2) ? answered_in_time : answered_late);
}

TEST_CASE("a name whose DNS server never answers ends the connect at connect_timeout") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) connect_through_silent_dns();
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == no_namespaces) {
    MESSAGE("skipped: creating network and mount namespaces needs root");
    return;
  }
  // Before the fix the connect ended only when the resolver gave up, 4 s later.
  CHECK(WEXITSTATUS(status) == answered_in_time);
}

// Produce with acks=0 has no response whose deadline would notice a broker that stopped
// reading: the write itself must time out, or the producer waits forever for it.
TEST_CASE("one-way frames a broker does not read fail with timed_out after request_timeout") {
  boost::asio::io_context ctx;
  tcp::acceptor listener(ctx, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  std::atomic<bool> done = false;
  std::thread broker([&] {
    tcp::socket s = listener.accept();
    test::accept_every_version(s, test::read_request(s).request().request_id());
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // reads no more
  });
  const broker_address addr{"127.0.0.1", listener.local_endpoint().port()};
  client_connection::options opts;
  opts.request_timeout = std::chrono::milliseconds(300);
  auto conn = connect(ctx, addr, opts);

  // Far more than the socket buffers on both sides hold.
  auto payload = std::make_shared<const byte_buffer>(1 << 20, std::byte{7});
  std::optional<error> failure;
  int written = 0;
  for (int i = 0; i < 256; ++i) {
    request_builder req;
    auto& fbb = req.fbb();
    const auto range = req.add_payload(payload);
    auto part = wire::CreateProducePartition(fbb, 0, &range);
    auto topic = wire::CreateProduceTopic(fbb, fbb.CreateString("t"), fbb.CreateVector(&part, 1));
    req.set_body(wire::CreateProduceRequest(fbb, 0, 30000, fbb.CreateVector(&topic, 1)));
    conn->send_oneway(std::move(req), [&](result<void> r) {
      if (r) {
        ++written;
      } else if (!failure) {
        failure = r.error();
      }
    });
  }
  const auto started = std::chrono::steady_clock::now();
  run_until(
      ctx, [&] { return failure.has_value(); }, std::chrono::seconds(20));
  const auto waited = std::chrono::steady_clock::now() - started;
  done = true;
  broker.join();
  REQUIRE(failure.has_value());
  CAPTURE(failure->message());
  CHECK(failure->code == client_errc::timed_out);
  CHECK(written < 256);
  CHECK(waited >= std::chrono::milliseconds(300));
  CHECK_FALSE(conn->is_open());
}

TEST_CASE("set_receive_buffer sizes SO_RCVBUF, and -1 leaves the kernel's default") {
  using boost::asio::ip::tcp;
  boost::asio::io_context ctx;
  auto rcvbuf_of = [](tcp::socket& s) {
    tcp::socket::receive_buffer_size size;
    s.get_option(size);
    return size.value();
  };
  tcp::socket untouched(ctx, tcp::v4());
  const int kernel_default = rcvbuf_of(untouched);
  CHECK_FALSE(set_receive_buffer(untouched, -1));
  CHECK(rcvbuf_of(untouched) == kernel_default);

  const long cap = receive_buffer_limit();
  REQUIRE(cap > 0);
  const int within = static_cast<int>(std::min(cap, 1L << 20));
  tcp::socket sized(ctx, tcp::v4());
  CHECK(set_receive_buffer(sized, within));
  CHECK(rcvbuf_of(sized) >= within);  // Linux reports twice the size (its bookkeeping)

  // Above the cap the kernel would shrink it and stop autotuning: left alone instead.
  tcp::socket above(ctx, tcp::v4());
  CHECK_FALSE(set_receive_buffer(above, static_cast<int>(std::min(cap + 1, 1L << 30))));
  CHECK(rcvbuf_of(above) == kernel_default);
}

}  // namespace sluice
