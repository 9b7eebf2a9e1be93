// Metadata: the brokers (this one), and every requested topic with its partitions' leaders.

#include <fmt/format.h>

#include "broker/handlers/request_context.h"

namespace sluice {
namespace {

std::unique_ptr<wire::TopicMetadataT> describe(const topic_info& info, std::int32_t leader) {
  auto t = std::make_unique<wire::TopicMetadataT>();
  t->name = info.record.name;
  t->topic_id = info.record.topic_id;
  for (std::int32_t p = 0; p < info.record.partitions; ++p) {
    auto pm = std::make_unique<wire::PartitionMetadataT>();
    pm->partition = p;
    pm->leader = leader;
    t->partitions.push_back(std::move(pm));
  }
  return t;
}

}  // namespace

void handle_metadata(request_context ctx) {
  const auto* req = ctx.request->body_as_MetadataRequest();
  const auto& id = ctx.svc.identity();
  const auto& cfg = ctx.svc.config();
  wire::MetadataResponseT out;
  out.cluster_id = id.cluster_id;
  out.controller_id = id.broker_id;
  auto broker = std::make_unique<wire::BrokerInfoT>();
  broker->id = id.broker_id;
  broker->host = cfg.effective_advertised_host();
  broker->port = cfg.port;
  out.brokers.push_back(std::move(broker));
  auto topics = ctx.svc.topics();
  if (req->topics() == nullptr) {
    for (const auto& [name, info] : *topics) out.topics.push_back(describe(info, id.broker_id));
  } else {
    for (const auto* name : *req->topics()) {
      auto it = topics->find(name->string_view());
      if (it != topics->end()) {
        out.topics.push_back(describe(it->second, id.broker_id));
        continue;
      }
      auto t = std::make_unique<wire::TopicMetadataT>();
      t->name = name->str();
      t->error = wire::ErrorCode::unknown_topic;
      t->error_message = fmt::format("topic '{}' does not exist", name->string_view());
      out.topics.push_back(std::move(t));
    }
  }
  response_builder b;
  b.finish_object(ctx.request_id(), out);
  ctx.respond(std::move(b));
}

}  // namespace sluice
