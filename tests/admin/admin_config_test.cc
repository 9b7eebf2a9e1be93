#include <doctest/doctest.h>
#include <stdlib.h>

#include <vector>

#include "admin/admin.h"
#include "admin/admin_channel.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/client_errc.h"
#include "tests/admin/response_util.h"

namespace sluice {

TEST_CASE("an admin config with a non-positive timeout is refused naming the setting") {
  admin_config c{.brokers = "127.0.0.1:1", .request_timeout = std::chrono::milliseconds(0)};
  auto r = c.validate();
  REQUIRE(!r);
  CHECK(r.error().code == client_errc::invalid_argument);
  CHECK(r.error().detail.find("request_timeout") != std::string::npos);
  CHECK(!admin::create(c));
}

TEST_CASE("an admin config with a bad broker address is refused") {
  auto r = admin_config{.brokers = "host:notaport"}.validate();
  REQUIRE(!r);
  CHECK(r.error().code == client_errc::invalid_argument);
}

TEST_CASE("without configured brokers the environment variable, then the default is used") {
  ::unsetenv(brokers_env_var);
  auto fallback = bootstrap_brokers("");
  REQUIRE(fallback);
  CHECK(fallback->front() == broker_address{"127.0.0.1", 9190});

  ::setenv(brokers_env_var, "example:1234", 1);
  auto from_env = bootstrap_brokers("");
  ::unsetenv(brokers_env_var);
  REQUIRE(from_env);
  CHECK(from_env->front() == broker_address{"example", 1234});

  auto configured = bootstrap_brokers("a:1,b:2");
  REQUIRE(configured);
  CHECK(configured->size() == 2);
}

TEST_CASE("IPv6 broker addresses go in brackets; a bare one is refused saying so") {
  auto bracketed = parse_broker_list("[::1]:9191,[fe80::1],host:7");
  REQUIRE(bracketed);
  CHECK(*bracketed ==
        std::vector<broker_address>{{"::1", 9191}, {"fe80::1", default_native_port}, {"host", 7}});
  CHECK(bracketed->front().to_string() == "[::1]:9191");
  for (const char* bare : {"::1", "::1:9190", "fe80::1", "127.0.0.1:1,2001:db8::2"}) {
    CAPTURE(bare);
    auto r = parse_broker_list(bare);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == client_errc::invalid_argument);
    CHECK(r.error().detail.find("brackets") != std::string::npos);
  }
  CHECK(parse_broker_list("::1").error().detail.find("[::1]:9190") != std::string::npos);
}

TEST_CASE("calls to an unreachable broker fail with the network error, naming the address") {
  // Port 1 on loopback: nothing listens there, the connect is refused at once.
  auto a = admin::create({.brokers = "127.0.0.1:1"});
  REQUIRE(a);
  auto r = (*a)->list_topics();
  REQUIRE(!r);
  CHECK(r.error().detail.find("127.0.0.1:1") != std::string::npos);
}

}  // namespace sluice
