#include "broker/wire_error_mapping.h"

#include <doctest/doctest.h>

#include <cerrno>

#include "broker/errc.h"
#include "protocol/errc.h"
#include "segment/errc.h"
#include "tests/result_printer.h"

using namespace sluice;
using wire::ErrorCode;

TEST_CASE("internal errors map to the wire codes clients act on") {
  CHECK(to_wire_error(make_error(broker_errc::unknown_topic, "")) == ErrorCode::unknown_topic);
  CHECK(to_wire_error(make_error(broker_errc::not_enough_space, "")) ==
        ErrorCode::not_enough_space);
  CHECK(to_wire_error(make_error(log_errc::offset_out_of_range, "")) ==
        ErrorCode::offset_out_of_range);
  CHECK(to_wire_error(make_error(log_errc::batch_too_large, "")) == ErrorCode::message_too_large);
  CHECK(to_wire_error(make_error(log_errc::log_offline, "")) == ErrorCode::storage_error);
  CHECK(to_wire_error(make_error(protocol_errc::bad_crc, "")) == ErrorCode::corrupt_batch);
  CHECK(to_wire_error(make_error(protocol_errc::unsupported_compression, "")) ==
        ErrorCode::unsupported_compression);
  CHECK(to_wire_error(make_errno_error(ENOSPC, "write")) == ErrorCode::not_enough_space);
  CHECK(to_wire_error(make_errno_error(EIO, "write")) == ErrorCode::storage_error);
}
