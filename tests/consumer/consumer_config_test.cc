#include <doctest/doctest.h>

#include "consumer/consumer.h"
#include "protocol/client/client_errc.h"
#include "tests/consumer/consumer_test_util.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;

void check_refused(const consumer_config& c, std::string_view setting) {
  auto r = c.validate();
  REQUIRE(!r);
  CHECK(r.error().code == client_errc::invalid_argument);
  CHECK(r.error().detail.find(setting) != std::string::npos);
  CHECK(!consumer::create(c));
}

}  // namespace

TEST_CASE("the default consumer config is valid") {
  CHECK(consumer_config{.brokers = "127.0.0.1:9190"}.validate());
}

TEST_CASE("out of range consumer settings are refused naming the setting") {
  const consumer_config ok{.brokers = "127.0.0.1:9190"};
  auto c = ok;
  c.fetch_min_bytes = -1;
  check_refused(c, "fetch_min_bytes");
  c = ok;
  c.fetch_max_wait = -1ms;
  check_refused(c, "fetch_max_wait");
  c = ok;
  c.fetch_max_bytes = 0;
  check_refused(c, "fetch_max_bytes");
  c = ok;
  c.max_partition_fetch_bytes = 0;
  check_refused(c, "max_partition_fetch_bytes");
  c = ok;
  c.max_poll_records = 0;
  check_refused(c, "max_poll_records");
  c = ok;
  c.max_buffered_bytes = 0;
  check_refused(c, "max_buffered_bytes");
  c = ok;
  c.request_timeout = 0ms;
  check_refused(c, "request_timeout");
  c = ok;
  c.receive_buffer_bytes = 0;
  check_refused(c, "receive_buffer_bytes");
  c.receive_buffer_bytes = -2;
  check_refused(c, "receive_buffer_bytes");
  c.receive_buffer_bytes = -1;  // the kernel's default
  CHECK(c.validate());
  c = ok;
  c.max_fetches_in_flight = 0;
  check_refused(c, "max_fetches_in_flight");
  c.max_fetches_in_flight = 3;
  check_refused(c, "max_fetches_in_flight");
  c.max_fetches_in_flight = 1;
  CHECK(c.validate());
  c = ok;
  c.brokers = "host:99999";
  check_refused(c, "host:99999");
}

TEST_CASE("position, lag and seeks of a partition not assigned are refused") {
  auto c = consumer::create({.brokers = "127.0.0.1:1"}).value();
  const topic_partition tp{"t", 0};
  auto p = c->position(tp);
  REQUIRE(!p);
  CHECK(p.error().code == client_errc::invalid_argument);
  CHECK(p.error().detail.find("t-0") != std::string::npos);
  CHECK(!c->lag(tp));
  auto s = c->seek(tp, 0);
  REQUIRE(!s);
  CHECK(s.error().code == client_errc::invalid_argument);
  CHECK(!c->seek_to_beginning({tp}));
  CHECK(!c->seek_to_timestamp({tp}, 0));
}

TEST_CASE("assigning with no broker reachable fails with the network error and changes nothing") {
  auto c = consumer::create({.brokers = "127.0.0.1:1"}).value();
  auto r = c->assign({{"t", 0}});
  REQUIRE(!r);
  CHECK(r.error().detail.find("127.0.0.1:1") != std::string::npos);
  CHECK(c->assignment().empty());
}

TEST_CASE("an empty assignment polls nothing until the timeout") {
  auto c = consumer::create({.brokers = "127.0.0.1:1"}).value();
  REQUIRE(c->assign({}));
  auto r = c->poll(20ms);
  REQUIRE(r);
  CHECK(r->empty());
}

TEST_CASE("a closed consumer fails every call with client_closed") {
  auto c = consumer::create({.brokers = "127.0.0.1:1"}).value();
  c->close();
  auto r = c->poll(0ms);
  REQUIRE(!r);
  CHECK(r.error().code == client_errc::client_closed);
  CHECK(!c->assign({}));
  c->close();  // idempotent
}

}  // namespace sluice
