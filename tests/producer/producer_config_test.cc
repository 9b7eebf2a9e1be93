#include <doctest/doctest.h>

#include "producer/producer.h"
#include "protocol/client/client_errc.h"

namespace sluice {
namespace {

// The setting's name appears in the error, so a user knows what to change.
void check_refused(const producer_config& c, std::string_view setting) {
  auto r = c.validate();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == client_errc::invalid_argument);
  CHECK(r.error().detail.find(setting) != std::string::npos);
}

TEST_CASE("the default config is valid") {
  CHECK(producer_config{}.validate().has_value());
}

TEST_CASE("acks must be 0, 1 or -1") {
  producer_config c;
  c.acks = 2;
  check_refused(c, "acks");
  c.acks = -1;
  CHECK(c.validate().has_value());
}

TEST_CASE("acks=0 needs idempotence off") {
  producer_config c;
  c.acks = 0;
  check_refused(c, "idempotence");
  c.idempotence = false;
  CHECK(c.validate().has_value());
}

TEST_CASE("idempotence allows at most idempotent_window_batches requests in flight") {
  producer_config c;
  CHECK(c.max_in_flight == idempotent_window_batches);  // the default
  c.max_in_flight = idempotent_window_batches + 1;
  check_refused(c, "max_in_flight");
  c.idempotence = false;
  CHECK(c.validate().has_value());
  c.max_in_flight = 0;
  check_refused(c, "max_in_flight");
}

TEST_CASE("delivery_timeout must cover linger and request_timeout") {
  producer_config c;
  c.linger = std::chrono::milliseconds(100);
  c.request_timeout = std::chrono::milliseconds(1000);
  c.delivery_timeout = std::chrono::milliseconds(1099);
  check_refused(c, "delivery_timeout");
  c.delivery_timeout = std::chrono::milliseconds(1100);
  CHECK(c.validate().has_value());
}

TEST_CASE("sizes, times and codec are range-checked") {
  producer_config c;
  c.batch_size = 0;
  check_refused(c, "batch_size");
  c = {};
  c.buffer_memory = c.max_request_size - 1;
  check_refused(c, "buffer_memory");
  c = {};
  c.linger = std::chrono::milliseconds(-1);
  check_refused(c, "linger");
  c = {};
  c.request_timeout = std::chrono::milliseconds(0);
  check_refused(c, "request_timeout");
  c = {};
  c.metadata_max_age = std::chrono::milliseconds(0);
  check_refused(c, "metadata_max_age");
  c = {};
  c.codec = compression::lz4;
  check_refused(c, "codec");
}

TEST_CASE("a malformed broker list is refused with the bad entry") {
  producer_config c;
  c.brokers = "localhost:99999";
  auto r = c.validate();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().detail.find("localhost:99999") != std::string::npos);
}

}  // namespace
}  // namespace sluice
