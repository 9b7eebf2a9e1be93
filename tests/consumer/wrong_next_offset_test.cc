// Two fetches in flight trust the broker's next_fetch_offset until the records arrive; then the
// consumer checks it against where the records end. A broker (written by hand here) that names
// the wrong offset costs a refetch and one reported error, never a record skipped or repeated.

#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "consumer/consumer.h"
#include "protocol/client/client_errc.h"
#include "tests/consumer/consumer_test_util.h"
#include "tests/consumer/scripted_answers.h"
#include "tests/protocol/fake_broker.h"

namespace sluice {
namespace {

using boost::asio::ip::tcp;

using test::answer_list_offsets;
using test::answer_metadata;

// Five records from the fetch offset; the answer says the partition continues after them,
// except for a fetch from offset 0, where it says two records earlier.
void answer_fetch(tcp::socket& s, const test::received_request& req) {
  const std::int64_t from = test::fetch_offset_of(req);
  test::answer_records(s, req, from + test::records_per_answer - (from == 0 ? 2 : 0));
}

// Serves one client connection until the client closes it.
void serve(tcp::socket& s, std::uint16_t port) {
  try {
    for (;;) {
      const auto req = test::read_request(s);
      switch (req.request().body_type()) {
        case wire::RequestBody::ApiVersionsRequest:
          test::accept_every_version(s, req.request().request_id());
          break;
        case wire::RequestBody::MetadataRequest:
          answer_metadata(s, req.request().request_id(), port);
          break;
        case wire::RequestBody::ListOffsetsRequest:
          answer_list_offsets(s, req.request().request_id());
          break;
        case wire::RequestBody::FetchRequest:
          answer_fetch(s, req);
          break;
        default:
          FAIL("unexpected request " << wire::EnumNameRequestBody(req.request().body_type()));
      }
    }
  } catch (const boost::system::system_error&) {  // the consumer closed the connection
  }
}

}  // namespace

TEST_CASE("a wrong next_fetch_offset costs a refetch and an error, no record lost or repeated") {
  boost::asio::io_context ctx;
  tcp::acceptor listener(ctx, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  const auto port = listener.local_endpoint().port();
  std::jthread broker([&] {  // joined after the consumer, declared later, has closed
    tcp::socket s = listener.accept();
    serve(s, port);
  });

  auto c = consumer::create({.brokers = "127.0.0.1:" + std::to_string(port)}).value();
  const topic_partition tp{"t", 0};
  REQUIRE(c->assign({tp}));
  REQUIRE(c->seek(tp, 0));
  std::int64_t expected = 0;
  int protocol_violations = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (expected < 40 && std::chrono::steady_clock::now() < deadline) {
    auto polled = c->poll(std::chrono::milliseconds(100));
    if (!polled) {
      CAPTURE(polled.error().message());
      CHECK(polled.error().code == make_error_code(client_errc::protocol_violation));
      CHECK(polled.error().message().find("continues at offset 3, but its records end at 5") !=
            std::string::npos);
      ++protocol_violations;
      continue;
    }
    for (const auto& r : *polled) {
      REQUIRE(r.offset == expected);  // none skipped, none twice
      CHECK(r.value == "v" + std::to_string(r.offset));
      ++expected;
    }
  }
  CHECK(expected >= 40);
  // Once, or again if the seek dropped the answer of a fetch the reset had sent from 0 too.
  CHECK(protocol_violations >= 1);
  c->close();
}

}  // namespace sluice
