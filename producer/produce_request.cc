#include "producer/produce_request.h"

#include <fmt/format.h>

#include <limits>
#include <string_view>
#include <unordered_map>

#include "protocol/api_versions.h"
#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::producer_internal {
namespace {

struct partition_ref {
  std::string_view topic;
  std::int32_t partition;
  bool operator==(const partition_ref&) const = default;
};
struct partition_ref_hash {
  std::size_t operator()(const partition_ref& r) const noexcept {
    return std::hash<std::string_view>{}(r.topic) * 31 + static_cast<std::size_t>(r.partition);
  }
};

// Indexes of `batches` grouped by topic, topics in order of first appearance.
std::vector<std::vector<std::size_t>> group_by_topic(std::span<const batch_ptr> batches) {
  std::vector<std::vector<std::size_t>> groups;
  std::unordered_map<std::string_view, std::size_t> group_of;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    auto [it, fresh] = group_of.try_emplace(batches[i]->tp().topic, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

}  // namespace

request_builder build_produce_request(std::span<const batch_ptr> batches, std::int8_t acks,
                                      std::chrono::milliseconds timeout) {
  request_builder req(256 + batches.size() * 32);
  auto& fbb = req.fbb();
  std::vector<flatbuffers::Offset<wire::ProduceTopic>> topics;
  for (const auto& group : group_by_topic(batches)) {
    std::vector<flatbuffers::Offset<wire::ProducePartition>> partitions;
    partitions.reserve(group.size());
    for (const auto i : group) {
      const auto& b = *batches[i];
      SLUICE_ASSERT(b.bytes() != nullptr);
      const auto range = req.add_payload(b.bytes());
      partitions.push_back(wire::CreateProducePartition(fbb, b.tp().partition, &range));
    }
    topics.push_back(wire::CreateProduceTopic(fbb, fbb.CreateString(batches[group[0]]->tp().topic),
                                              fbb.CreateVector(partitions)));
  }
  const auto timeout_ms = static_cast<std::int32_t>(
      std::min<std::int64_t>(timeout.count(), std::numeric_limits<std::int32_t>::max()));
  req.set_body(wire::CreateProduceRequest(fbb, acks, timeout_ms, fbb.CreateVector(topics)));
  return req;
}

std::size_t produce_frame_size(std::span<const batch_ptr> batches, std::int8_t acks,
                               std::chrono::milliseconds timeout, std::string_view client_id) {
  auto req = build_produce_request(batches, acks, timeout);
  // A request id takes 8 bytes whatever its value (ids start at 1, so it is never left out as a
  // default): this frame is exactly as large as the one the connection will send.
  req.finish(std::numeric_limits<std::uint64_t>::max(),
             client_version(wire::RequestBody::ProduceRequest), client_id);
  return req.frame_size();
}

// Generous per part: the frame prefix, the request's header and body tables (their vtables,
// fields and alignment padding), and per batch its partition table, payload range, vector slot
// and, counted for every batch though written once per topic, its topic's table and name.
std::size_t produce_frame_size_bound(std::span<const batch_ptr> batches,
                                     std::string_view client_id) {
  constexpr std::size_t per_request = 256;
  constexpr std::size_t per_batch = 96;
  std::size_t bound = per_request + client_id.size();
  for (const auto& b : batches) bound += b->bytes()->size() + b->tp().topic.size() + per_batch;
  return bound;
}

std::vector<result<produce_ack>> match_produce_response(const response_frame& frame,
                                                        std::span<const batch_ptr> batches) {
  std::unordered_map<partition_ref, std::size_t, partition_ref_hash> index;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    index.emplace(partition_ref{batches[i]->tp().topic, batches[i]->tp().partition}, i);
  }
  std::vector<result<produce_ack>> out(batches.size(), result<produce_ack>(produce_ack{}));
  std::vector<bool> answered(batches.size(), false);
  const auto* body = frame.body<wire::ProduceResponse>();
  if (body != nullptr && body->topics() != nullptr) {
    for (const auto* t : *body->topics()) {
      if (t->name() == nullptr || t->partitions() == nullptr) continue;
      for (const auto* p : *t->partitions()) {
        auto it = index.find(partition_ref{t->name()->string_view(), p->partition()});
        if (it == index.end()) continue;
        answered[it->second] = true;
        if (auto e = wire::to_result(p->error(), p->error_message()); !e) {
          out[it->second] = e.error();
        } else {
          out[it->second] = produce_ack{p->base_offset(), p->duplicate()};
        }
      }
    }
  }
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (answered[i]) continue;
    out[i] = make_error(client_errc::protocol_violation,
                        fmt::format("the Produce response has no result for {}-{}",
                                    batches[i]->tp().topic, batches[i]->tp().partition));
  }
  return out;
}

}  // namespace sluice::producer_internal
