#include "producer/producer_batch.h"

#include <doctest/doctest.h>

#include <vector>

#include "protocol/client/client_errc.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"

namespace sluice::producer_internal {
namespace {

producer_record rec(std::string value) {
  return producer_record{.topic = "t", .value = std::move(value)};
}

struct batch_outcomes {
  std::vector<result<record_metadata>> got;
  producer::callback collect() {
    return [this](result<record_metadata> r) { got.push_back(std::move(r)); };
  }
};

TEST_CASE("a completed batch gives each record its own offset, in order, with its timestamp") {
  batch_outcomes o;
  producer_batch b({"t", 3}, 1, clock::now(), {});
  for (int i = 0; i < 3; ++i) {
    auto r = rec("v" + std::to_string(i));
    b.add(r, 1000 + i, record_size_upper_bound(r), o.collect());
  }
  b.seal(std::nullopt);
  b.complete(500);
  REQUIRE(o.got.size() == 3);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(o.got[i].has_value());
    CHECK(o.got[i]->topic == "t");
    CHECK(o.got[i]->partition == 3);
    CHECK(o.got[i]->offset == 500 + i);
    CHECK(o.got[i]->timestamp == 1000 + i);
  }
  CHECK(b.done());
}

TEST_CASE("a failed batch gives every record the error") {
  batch_outcomes o;
  producer_batch b({"t", 0}, 1, clock::now(), {});
  auto r = rec("x");
  b.add(r, 1, record_size_upper_bound(r), o.collect());
  b.add(r, 2, record_size_upper_bound(r), o.collect());
  b.fail(make_error(client_errc::timed_out, "gone"));
  REQUIRE(o.got.size() == 2);
  for (const auto& g : o.got) {
    REQUIRE_FALSE(g.has_value());
    CHECK(g.error().detail == "gone");
  }
}

TEST_CASE("acks=0 completion reports offset -1 for every record") {
  batch_outcomes o;
  producer_batch b({"t", 0}, 1, clock::now(), {});
  auto r = rec("x");
  b.add(r, 1, record_size_upper_bound(r), o.collect());
  b.add(r, 1, record_size_upper_bound(r), o.collect());
  b.seal(std::nullopt);
  b.complete(-1);
  REQUIRE(o.got.size() == 2);
  CHECK(o.got[0]->offset == -1);
  CHECK(o.got[1]->offset == -1);
}

TEST_CASE("sealing encodes the records with keys, values, null values and headers") {
  producer_batch b({"t", 0}, 1, clock::now(), {.codec = compression::zstd});
  producer_record r{.topic = "t",
                    .key = "k",
                    .value = std::nullopt,
                    .headers = {{"h1", "x"}, {"h2", std::nullopt}}};
  b.add(r, 77, record_size_upper_bound(r), nullptr);
  auto r2 = rec("second");
  b.add(r2, 78, record_size_upper_bound(r2), nullptr);
  b.seal(producer_stamp{5, 1, 9});
  auto view = record_batch_view::parse(*b.bytes());
  REQUIRE(view.has_value());
  REQUIRE(view->validate().has_value());
  CHECK(view->header().codec() == compression::zstd);
  CHECK(view->header().base_sequence == 9);
  auto records = decode_records(*view);
  REQUIRE(records.has_value());
  REQUIRE(records->records().size() == 2);
  const auto& first = records->records()[0];
  CHECK(as_string_view(*first.key) == "k");
  CHECK_FALSE(first.value.has_value());
  REQUIRE(first.headers.size() == 2);
  CHECK(first.headers[0].key == "h1");
  CHECK(as_string_view(*first.headers[0].value) == "x");
  CHECK_FALSE(first.headers[1].value.has_value());
  CHECK(as_string_view(*records->records()[1].value) == "second");
  CHECK(b.estimated_bytes() >= view->bytes().size());
}

TEST_CASE("restamping leaves the bytes a request already holds untouched") {
  producer_batch b({"t", 0}, 1, clock::now(), {});
  auto r = rec("x");
  b.add(r, 1, record_size_upper_bound(r), nullptr);
  b.seal(producer_stamp{1, 0, 10});
  const auto sent = b.bytes();
  const byte_buffer before = *sent;
  b.restamp(producer_stamp{2, 0, 0});
  CHECK(*sent == before);
  auto view = record_batch_view::parse(*b.bytes());
  REQUIRE(view.has_value());
  CHECK(view->validate().has_value());
  CHECK(view->header().producer_id == 2);
  CHECK(view->header().base_sequence == 0);
}

// The values of a sealed batch's records, decoded from its bytes.
std::vector<std::string> values_of(const producer_batch& b) {
  auto view = record_batch_view::parse(*b.bytes()).value();
  REQUIRE(view.validate().has_value());
  std::vector<std::string> out;
  const auto decoded = decode_records(view).value();
  for (const auto& r : decoded.records()) {
    out.emplace_back(as_string_view(r.value.value()));
  }
  return out;
}

TEST_CASE("a split moves the records, in order, into smaller parts that continue the sequence") {
  batch_outcomes o;
  const auto created = clock::now();
  producer_batch b({"t", 2}, 7, created, {.codec = compression::zstd});
  std::size_t memory = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = rec("value-" + std::to_string(i));
    b.add(r, 1000 + i, record_size_upper_bound(r), o.collect());
    memory += record_size_upper_bound(r);
  }
  b.seal(producer_stamp{5, 1, 100});
  const auto parent_bytes = b.estimated_bytes();
  auto parts = b.split();
  CHECK(b.done());
  CHECK(o.got.empty());  // no callback ran
  REQUIRE(parts.size() >= 2);
  std::vector<std::string> values;
  std::int32_t sequence = 100;
  std::size_t part_memory = 0;
  for (const auto& p : parts) {
    CHECK(p->id() == 7);
    CHECK(p->created() == created);
    CHECK(p->tp().partition == 2);
    CHECK(p->estimated_bytes() <= parent_bytes / 2);
    REQUIRE(p->stamp().has_value());
    CHECK(*p->stamp() == producer_stamp{5, 1, sequence});
    auto view = record_batch_view::parse(*p->bytes()).value();
    CHECK(view.header().base_sequence == sequence);
    CHECK(view.header().codec() == compression::zstd);
    sequence += p->record_count();
    part_memory += p->memory_bytes();
    for (auto& v : values_of(*p)) values.push_back(std::move(v));
  }
  CHECK(sequence == 110);
  CHECK(part_memory == memory);
  REQUIRE(values.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(values[i] == "value-" + std::to_string(i));
  std::int64_t offset = 500;
  for (const auto& p : parts) {
    p->complete(offset);
    offset += p->record_count();
  }
  REQUIRE(o.got.size() == 10);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(o.got[i].has_value());
    CHECK(o.got[i]->offset == 500 + i);
    CHECK(o.got[i]->timestamp == 1000 + i);
  }
}

TEST_CASE("a split gives a record larger than half the batch a part of its own") {
  producer_batch b({"t", 0}, 1, clock::now(), {});
  const std::vector<std::string> sent{"a", "b", "c", std::string(2000, 'x'), "d", "e", "f"};
  for (const auto& v : sent) {
    auto r = rec(v);
    b.add(r, 1, record_size_upper_bound(r), nullptr);
  }
  b.seal(std::nullopt);
  auto parts = b.split();
  REQUIRE(parts.size() == 3);
  CHECK(values_of(*parts[0]) == std::vector<std::string>{"a", "b", "c"});
  CHECK(values_of(*parts[1]) == std::vector<std::string>{std::string(2000, 'x')});
  CHECK(values_of(*parts[2]) == std::vector<std::string>{"d", "e", "f"});
  for (const auto& p : parts) {
    CHECK_FALSE(p->stamp().has_value());
    CHECK(record_batch_view::parse(*p->bytes()).value().header().producer_id == -1);
  }
}

TEST_CASE("a split keeps keys, null values, headers and timestamps") {
  producer_batch b({"t", 0}, 1, clock::now(), {});
  producer_record first{.topic = "t",
                        .key = "k",
                        .value = std::nullopt,
                        .headers = {{"h1", "x"}, {"h2", std::nullopt}}};
  auto second = rec("second");
  b.add(first, 77, record_size_upper_bound(first), nullptr);
  b.add(second, 78, record_size_upper_bound(second), nullptr);
  b.seal(std::nullopt);
  auto parts = b.split();
  REQUIRE(parts.size() == 2);
  auto view = record_batch_view::parse(*parts[0]->bytes()).value();
  auto records = decode_records(view).value();
  REQUIRE(records.records().size() == 1);
  const auto& r = records.records()[0];
  CHECK(r.timestamp == 77);
  CHECK(as_string_view(*r.key) == "k");
  CHECK_FALSE(r.value.has_value());
  REQUIRE(r.headers.size() == 2);
  CHECK(r.headers[0].key == "h1");
  CHECK(as_string_view(*r.headers[0].value) == "x");
  CHECK_FALSE(r.headers[1].value.has_value());
  auto view2 = record_batch_view::parse(*parts[1]->bytes()).value();
  CHECK(decode_records(view2).value().records()[0].timestamp == 78);
}

TEST_CASE("the size bound covers the record's bytes and framing") {
  producer_record r{.topic = "t",
                    .key = std::string(100, 'k'),
                    .value = std::string(1000, 'v'),
                    .headers = {{"name", std::string(10, 'h')}}};
  producer_batch b({"t", 0}, 1, clock::now(), {});
  b.add(r, 1, record_size_upper_bound(r), nullptr);
  b.seal(std::nullopt);
  CHECK(b.bytes()->size() <= b.estimated_bytes());
  CHECK(record_size_upper_bound(r) >= 1100 + 14);
}

}  // namespace
}  // namespace sluice::producer_internal
