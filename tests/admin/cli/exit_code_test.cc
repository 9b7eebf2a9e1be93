#include "admin/cli/exit_code.h"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <cerrno>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::cli {

TEST_CASE("a refused connection means no broker could be reached: exit 3") {
  const auto e = make_errno_error(ECONNREFUSED, "connecting to 127.0.0.1:9190");
  CHECK(is_connection_failure(e));
  CHECK(exit_code_for(e) == exit_code::no_broker);
  CHECK(to_int(exit_code_for(e)) == 3);
}

TEST_CASE("an unknown host and an empty broker list are connection failures") {
  CHECK(is_connection_failure(error{boost::asio::error::host_not_found, "resolving nohost"}));
  CHECK(is_connection_failure(make_error(client_errc::no_brokers, "no broker address given")));
}

TEST_CASE("a connect that timed out is a connection failure, a request that timed out is not") {
  CHECK(is_connection_failure(
      make_error(client_errc::timed_out, "connecting to 10.0.0.1:9190 took longer than 10000 ms")));
  CHECK_FALSE(is_connection_failure(make_error(client_errc::timed_out, "Produce took too long")));
}

TEST_CASE("a broker's error is an operation failure: exit 1") {
  const error e{wire::make_error_code(wire::ErrorCode::unknown_topic), "unknown topic 'nope'"};
  CHECK_FALSE(is_connection_failure(e));
  CHECK(to_int(exit_code_for(e)) == 1);
}

TEST_CASE("the exit codes scripts rely on have fixed values") {
  CHECK(to_int(exit_code::ok) == 0);
  CHECK(to_int(exit_code::failed) == 1);
  CHECK(to_int(exit_code::usage) == 2);
  CHECK(to_int(exit_code::no_broker) == 3);
}

}  // namespace sluice::cli
