#include "tests/producer/fake_broker.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocol/api_versions.h"
#include "protocol/frame.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"

namespace sluice::test {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class T>
byte_buffer frame_of(std::uint64_t request_id, flatbuffers::FlatBufferBuilder& fbb,
                     flatbuffers::Offset<T> body) {
  fbb.Finish(wire::CreateResponse(fbb, request_id, wire::ErrorCode::none, 0,
                                  wire::ResponseBodyTraits<T>::enum_value, body.Union()));
  const auto prefix = encode_frame_prefix(fbb.GetSize(), 0);
  byte_buffer out(prefix.begin(), prefix.end());
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  out.insert(out.end(), p, p + fbb.GetSize());
  return out;
}

byte_buffer error_frame(std::uint64_t request_id, wire::ErrorCode e, std::string_view message) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateResponse(fbb, request_id, e, fbb.CreateString(message)));
  const auto prefix = encode_frame_prefix(fbb.GetSize(), 0);
  byte_buffer out(prefix.begin(), prefix.end());
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  out.insert(out.end(), p, p + fbb.GetSize());
  return out;
}

}  // namespace

fake_broker::fake_broker() : acceptor_(io_.context()) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_.context(), accept_loop(), asio::detached);
}

fake_broker::~fake_broker() {
  io_.call([this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_) s->close(ignored);
  });
  io_.stop();
}

std::string fake_broker::address() const {
  return fmt::format("127.0.0.1:{}", port_);
}

asio::awaitable<void> fake_broker::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec) co_return;
    asio::co_spawn(io_.context(), serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> fake_broker::serve(tcp::socket s) {
  auto socket = std::make_shared<tcp::socket>(std::move(s));
  sockets_.push_back(socket);
  const int connection_number = ++connections_accepted_;
  for (;;) {
    std::array<std::byte, frame_format::prefix_size> prefix{};
    auto [ec, n] = co_await asio::async_read(*socket, asio::buffer(prefix), use_tuple);
    if (ec) break;
    auto p = parse_frame_prefix(prefix, max_request_bytes_);
    if (!p) {
      co_await refuse_frame(*socket, prefix, p.error());
      break;
    }
    byte_buffer body(p->body_size());
    auto [bec, bn] = co_await asio::async_read(*socket, asio::buffer(body), use_tuple);
    if (bec) break;
    auto req = verify_request(byte_span(body).first(p->message_length));
    if (!req) break;
    if (connection_number <= frozen_up_to_) continue;  // read, never handled nor answered
    auto r = handle(**req, byte_span(body).subspan(p->message_length));
    if (!r.frame.empty()) {
      auto [wec, wn] = co_await asio::async_write(*socket, asio::buffer(r.frame), use_tuple);
      if (wec) break;
    }
    if (r.close_after) break;
  }
  boost::system::error_code ignored;
  socket->close(ignored);
  ++connections_ended_;
}

asio::awaitable<void> fake_broker::refuse_frame(tcp::socket& socket,
                                                std::span<const std::byte> prefix,
                                                const error& why) {
  ++frames_refused_;
  const auto frame_length = load_be<std::uint32_t>(prefix.data());
  if (frame_length > frame_format::message_length_size) {
    byte_buffer body(frame_length - frame_format::message_length_size);
    co_await asio::async_read(socket, asio::buffer(body), use_tuple);
  }
  if (unanswered_refusals_ > 0) {
    --unanswered_refusals_;
    co_return;
  }
  auto refusal = error_frame(0, static_cast<wire::ErrorCode>(why.code.value()), why.detail);
  co_await asio::async_write(socket, asio::buffer(refusal), use_tuple);
}

fake_broker::reply fake_broker::handle(const wire::Request& req, byte_span payload) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto id = req.request_id();
  switch (req.body_type()) {
    case wire::RequestBody::ApiVersionsRequest: {
      std::vector<flatbuffers::Offset<wire::ApiVersionRange>> apis;
      for (const auto& r : supported_api_versions()) {
        apis.push_back(wire::CreateApiVersionRange(fbb, static_cast<std::uint8_t>(r.api),
                                                   r.min_version, r.max_version));
      }
      const std::uint32_t limit = advertise_request_limit_ ? max_request_bytes_ : 0;
      return {frame_of(id, fbb,
                       wire::CreateApiVersionsResponse(fbb, fbb.CreateVector(apis),
                                                       fbb.CreateString("fake"), limit)),
              false};
    }
    case wire::RequestBody::MetadataRequest: {
      std::vector<flatbuffers::Offset<wire::TopicMetadata>> topics;
      for (const auto* name : *req.body_as_MetadataRequest()->topics()) {
        auto it = topics_.find(name->str());
        if (it == topics_.end()) {
          topics.push_back(wire::CreateTopicMetadata(
              fbb, fbb.CreateString(name->str()), wire::ErrorCode::unknown_topic,
              fbb.CreateString(fmt::format("topic '{}' does not exist", name->str()))));
          continue;
        }
        std::vector<flatbuffers::Offset<wire::PartitionMetadata>> parts;
        for (std::size_t p = 0; p < it->second.size(); ++p) {
          parts.push_back(wire::CreatePartitionMetadata(fbb, static_cast<std::int32_t>(p), 0));
        }
        topics.push_back(wire::CreateTopicMetadata(fbb, fbb.CreateString(name->str()),
                                                   wire::ErrorCode::none, 0, 0,
                                                   fbb.CreateVector(parts)));
      }
      return {
          frame_of(id, fbb, wire::CreateMetadataResponse(fbb, 0, 0, 0, fbb.CreateVector(topics))),
          false};
    }
    case wire::RequestBody::InitProducerIdRequest:
      if (init_producer_id_error_ != wire::ErrorCode::none) {
        return {error_frame(id, init_producer_id_error_, "injected"), false};
      }
      return {frame_of(id, fbb, wire::CreateInitProducerIdResponse(fbb, next_producer_id_++, 0)),
              false};
    case wire::RequestBody::ProduceRequest:
      return produce(req, payload);
    default:
      return {error_frame(id, wire::ErrorCode::unsupported_request, "fake broker"), false};
  }
}

fake_broker::reply fake_broker::produce(const wire::Request& req, byte_span payload) {
  ++produce_requests_;
  if (silent_) return {};
  const auto* body = req.body_as_ProduceRequest();
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<wire::ProduceTopicResult>> topics;
  for (const auto* t : *body->topics()) {
    std::vector<flatbuffers::Offset<wire::ProducePartitionResult>> parts;
    for (const auto* p : *t->partitions()) {
      auto bytes = payload_bytes(payload, p->records(), "produce");
      auto r = bytes ? append(t->name()->str(), p->partition(), *bytes)
                     : produce_result{wire::ErrorCode::corrupt_message, "bad range"};
      if (r.error != wire::ErrorCode::none) ++refusals_[r.error];
      parts.push_back(wire::CreateProducePartitionResult(fbb, p->partition(), r.error,
                                                         fbb.CreateString(r.message), r.base_offset,
                                                         0, r.duplicate));
    }
    topics.push_back(wire::CreateProduceTopicResult(fbb, fbb.CreateString(t->name()->str()),
                                                    fbb.CreateVector(parts)));
  }
  if (drop_after_store_ > 0) {
    --drop_after_store_;
    return {{}, true};
  }
  if (lose_answers_ > 0) {
    --lose_answers_;
    if (lose_answers_ == 0 && limit_after_lost_answers_) {
      max_request_bytes_ = *std::exchange(limit_after_lost_answers_, std::nullopt);
    }
    return {};
  }
  if (body->acks() == 0) return {};
  return {
      frame_of(req.request_id(), fbb, wire::CreateProduceResponse(fbb, fbb.CreateVector(topics))),
      false};
}

fake_broker::produce_result fake_broker::append(const std::string& topic, std::int32_t partition,
                                                byte_span batch) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) return {wire::ErrorCode::unknown_topic, "no such topic"};
  if (partition < 0 || static_cast<std::size_t>(partition) >= it->second.size()) {
    return {wire::ErrorCode::unknown_partition, "no such partition"};
  }
  auto& log = it->second[static_cast<std::size_t>(partition)];
  auto view = record_batch_view::parse(batch);
  if (!view || !view->validate()) return {wire::ErrorCode::corrupt_batch, "invalid batch"};
  const auto& h = view->header();
  if (fault_) {
    if (auto e = fault_(topic, partition, h)) return {*e, "injected fault"};
  }
  if (h.producer_id >= 0) {
    if (auto r = check_sequence(log, h)) return *r;
  }
  if (max_batch_bytes_ && batch.size() > *max_batch_bytes_) {
    return refuse_too_large(log, h, batch.size());
  }
  byte_buffer stored(batch.begin(), batch.end());
  const auto base = log.end_offset;
  set_base_offset(stored, offset{base});
  log.batches.push_back(std::move(stored));
  log.end_offset += h.records_count;
  if (h.producer_id >= 0) {
    auto& e = log.producers[h.producer_id];
    const auto last = h.base_sequence + h.records_count - 1;
    e.next_sequence = last + 1;
    e.last_batches.push_back({h.base_sequence, last, base});
    if (e.last_batches.size() > idempotent_window_batches) e.last_batches.pop_front();
  }
  if (stored_fault_) {
    if (auto e = stored_fault_(topic, partition, h)) return {*e, "injected fault after storing"};
  }
  return {wire::ErrorCode::none, "", base, false};
}

std::optional<fake_broker::produce_result> fake_broker::check_sequence(partition_log& log,
                                                                       const batch_header& h) {
  const auto first = h.base_sequence;
  const auto last = first + h.records_count - 1;
  auto it = log.producers.find(h.producer_id);
  if (it == log.producers.end()) {
    if (strict_unknown_producers_ && first != 0) {
      return produce_result{
          wire::ErrorCode::out_of_order_sequence,
          fmt::format("unknown producer id {} at sequence {}", h.producer_id, first)};
    }
    return std::nullopt;
  }
  for (const auto& r : it->second.last_batches) {
    if (r.first == first && r.last == last) return produce_result{{}, "", r.base, true};
  }
  if (first != it->second.next_sequence) {
    return produce_result{
        wire::ErrorCode::out_of_order_sequence,
        fmt::format("expected sequence {}, got {}", it->second.next_sequence, first)};
  }
  return std::nullopt;
}

fake_broker::produce_result fake_broker::refuse_too_large(partition_log& log, const batch_header& h,
                                                          std::size_t size) {
  if (too_large_leaves_gap_ && h.producer_id >= 0) {
    log.producers[h.producer_id].next_sequence = h.base_sequence + h.records_count;
  }
  return {wire::ErrorCode::message_too_large,
          fmt::format("batch of {} bytes exceeds max.message.bytes {}", size, *max_batch_bytes_)};
}

void fake_broker::create_topic(const std::string& name, std::int32_t partitions) {
  io_.call([&] { topics_[name].resize(static_cast<std::size_t>(partitions)); });
}

void fake_broker::set_produce_fault(produce_fault f) {
  io_.call([&] { fault_ = std::move(f); });
}

void fake_broker::set_stored_fault(produce_fault f) {
  io_.call([&] { stored_fault_ = std::move(f); });
}

void fake_broker::lose_answers(int n, std::optional<std::uint32_t> then_max_request_bytes) {
  io_.call([&] {
    lose_answers_ = n;
    limit_after_lost_answers_ = then_max_request_bytes;
  });
}

void fake_broker::drop_after_store(int n) {
  io_.call([&] { drop_after_store_ = n; });
}

void fake_broker::freeze_open_connections() {
  io_.call([&] { frozen_up_to_ = connections_accepted_; });
}

int fake_broker::connections_accepted() {
  int n = 0;
  io_.call([&] { n = connections_accepted_; });
  return n;
}

void fake_broker::set_silent(bool silent) {
  io_.call([&] { silent_ = silent; });
}

void fake_broker::forget_producers() {
  io_.call([&] {
    strict_unknown_producers_ = true;
    for (auto& [name, partitions] : topics_) {
      for (auto& p : partitions) p.producers.clear();
    }
  });
}

void fake_broker::set_init_producer_id_error(wire::ErrorCode e) {
  io_.call([&] { init_producer_id_error_ = e; });
}

std::vector<fake_broker::stored_record> fake_broker::records(const std::string& topic,
                                                             std::int32_t partition) {
  return io_.call([&] {
    std::vector<stored_record> out;
    for (const auto& b : topics_.at(topic).at(static_cast<std::size_t>(partition)).batches) {
      auto view = record_batch_view::parse(b).value();
      auto decoded = decode_records(view).value();
      for (const auto& r : decoded.records()) {
        out.push_back({r.offset.value, std::string(as_string_view(r.value.value()))});
      }
    }
    return out;
  });
}

void fake_broker::set_max_batch_bytes(std::size_t max_bytes) {
  io_.call([&] { max_batch_bytes_ = max_bytes; });
}

void fake_broker::set_max_request_bytes(std::uint32_t max_bytes, int unanswered) {
  io_.call([&] {
    max_request_bytes_ = max_bytes;
    unanswered_refusals_ = unanswered;
  });
}

void fake_broker::set_advertise_request_limit(bool on) {
  io_.call([&] { advertise_request_limit_ = on; });
}

void fake_broker::end_open_connections() {
  io_.call([&] {
    boost::system::error_code ignored;
    for (auto& s : sockets_) {
      if (s->is_open()) s->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
  });
}

int fake_broker::connections_ended() {
  return io_.call([&] { return connections_ended_; });
}

int fake_broker::frames_refused() {
  return io_.call([&] { return frames_refused_; });
}

void fake_broker::set_too_large_leaves_gap(bool on) {
  io_.call([&] { too_large_leaves_gap_ = on; });
}

int fake_broker::refusals(wire::ErrorCode code) {
  return io_.call([&] {
    auto it = refusals_.find(code);
    return it == refusals_.end() ? 0 : it->second;
  });
}

int fake_broker::produce_requests() {
  return io_.call([&] { return produce_requests_; });
}

int fake_broker::producer_ids_given() {
  return io_.call([&] { return static_cast<int>(next_producer_id_ - 1000); });
}

}  // namespace sluice::test
