#include "admin/cluster_requests.h"

#include <fmt/format.h>

#include "admin/response_checks.h"

namespace sluice::admin_detail {
namespace {

const wire::ListOffsetsPartitionResult* find_partition(const wire::ListOffsetsResponse& body,
                                                       const std::string& topic,
                                                       std::int32_t partition) {
  if (body.topics() == nullptr) return nullptr;
  for (const auto* t : *body.topics()) {
    if (t->name() == nullptr || t->name()->string_view() != topic || t->partitions() == nullptr) {
      continue;
    }
    for (const auto* p : *t->partitions()) {
      if (p->partition() == partition) return p;
    }
  }
  return nullptr;
}

}  // namespace

request_builder metadata_request() {
  request_builder req;
  req.set_body(wire::CreateMetadataRequest(req.fbb()));
  return req;
}

result<cluster_description> read_metadata(const response_frame& frame) {
  auto body = body_of<wire::MetadataResponse>(frame, "Metadata");
  if (!body) return body.error();
  const auto& m = **body;
  cluster_description out;
  out.cluster_id = text_of(m.cluster_id());
  out.controller_id = m.controller_id();
  if (m.brokers() != nullptr) {
    for (const auto* b : *m.brokers())
      out.brokers.push_back({b->id(), text_of(b->host()), b->port()});
  }
  if (m.topics() != nullptr) {
    for (const auto* t : *m.topics()) {
      const auto name = text_of(t->name());
      if (auto r = broker_result(t->error(), t->error_message(), fmt::format("topic '{}'", name));
          !r) {
        return r.error();
      }
      const auto count = t->partitions() != nullptr ? t->partitions()->size() : 0U;
      out.topics.push_back({name, text_of(t->topic_id()), static_cast<std::int32_t>(count)});
    }
  }
  return out;
}

request_builder list_offsets_request(const std::string& topic, std::int32_t partition,
                                     std::int64_t spec) {
  request_builder req;
  auto& fbb = req.fbb();
  const std::vector<flatbuffers::Offset<wire::ListOffsetsPartition>> partitions{
      wire::CreateListOffsetsPartition(fbb, partition, spec)};
  const std::vector<flatbuffers::Offset<wire::ListOffsetsTopic>> topics{
      wire::CreateListOffsetsTopicDirect(fbb, topic.c_str(), &partitions)};
  req.set_body(wire::CreateListOffsetsRequestDirect(fbb, &topics));
  return req;
}

result<std::optional<std::int64_t>> read_list_offsets(const response_frame& frame,
                                                      const std::string& topic,
                                                      std::int32_t partition) {
  auto body = body_of<wire::ListOffsetsResponse>(frame, "ListOffsets");
  if (!body) return body.error();
  const auto subject = fmt::format("{}-{}", topic, partition);
  const auto* p = find_partition(**body, topic, partition);
  if (p == nullptr) return missing_result("ListOffsets", subject);
  if (auto r = broker_result(p->error(), p->error_message(), subject); !r) return r.error();
  if (p->offset() < 0) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{p->offset()};
}

}  // namespace sluice::admin_detail
