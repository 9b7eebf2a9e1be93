// DescribeTopics: configs (defaults marked) and each partition's offsets, size and state.

#include <fmt/format.h>

#include "broker/handlers/error_fields.h"
#include "broker/handlers/request_context.h"
#include "protocol/wire_errc.h"

namespace sluice {
namespace {

std::unique_ptr<wire::TopicDescriptionT> describe_configs(const topic_info& info,
                                                          const log_config& defaults) {
  auto t = std::make_unique<wire::TopicDescriptionT>();
  t->name = info.record.name;
  t->topic_id = info.record.topic_id;
  for (const auto& c : describe_config(defaults, info.record.overrides)) {
    auto e = std::make_unique<wire::ConfigEntryT>();
    e->name = c.name;
    e->value = c.value;
    e->is_default = c.is_default;
    t->configs.push_back(std::move(e));
  }
  for (std::int32_t p = 0; p < info.record.partitions; ++p) {
    t->partitions.push_back(std::make_unique<wire::PartitionDescriptionT>());
  }
  return t;
}

void fill(wire::PartitionDescriptionT& out, std::int32_t index, std::int32_t leader,
          const result<partition_status>& r) {
  out.partition = index;
  out.leader = leader;
  if (!r) return set_error(out, r.error());
  out.log_start_offset = r->log_start_offset.value;
  out.high_watermark = r->high_watermark.value;
  out.log_end_offset = r->log_end_offset.value;
  out.size_bytes = static_cast<std::int64_t>(r->size_bytes);
  out.segments = static_cast<std::int32_t>(r->segments);
  if (r->offline) set_error(out, *r->offline);
}

}  // namespace

void handle_describe_topics(request_context ctx) {
  const auto* req = ctx.request->body_as_DescribeTopicsRequest();
  auto topics = ctx.svc.topics();
  auto out = std::make_shared<wire::DescribeTopicsResponseT>();
  std::vector<const topic_info*> found;
  auto add = [&](const topic_info& info) {
    out->topics.push_back(describe_configs(info, ctx.svc.topic_defaults()));
    found.push_back(&info);
  };
  if (req->names() == nullptr) {
    for (const auto& [name, info] : *topics) add(info);
  } else {
    for (const auto* name : *req->names()) {
      auto it = topics->find(name->string_view());
      if (it != topics->end()) {
        add(it->second);
        continue;
      }
      auto t = std::make_unique<wire::TopicDescriptionT>();
      t->name = name->str();
      set_error(*t, make_error(wire::ErrorCode::unknown_topic,
                               fmt::format("topic '{}' does not exist", name->string_view())));
      out->topics.push_back(std::move(t));
      found.push_back(nullptr);
    }
  }
  std::size_t n = 0;
  for (const auto* f : found)
    n += f != nullptr ? static_cast<std::size_t>(f->record.partitions) : 0;
  auto shared_ctx = std::make_shared<request_context>(std::move(ctx));
  auto join = std::make_shared<fan_in>(n, [shared_ctx, out, topics] {
    response_builder b;
    b.finish_object(shared_ctx->request_id(), *out);
    shared_ctx->respond(std::move(b));
  });
  const auto leader = shared_ctx->svc.identity().broker_id;
  for (std::size_t ti = 0; ti < found.size(); ++ti) {
    if (found[ti] == nullptr) continue;
    for (std::int32_t p = 0; p < found[ti]->record.partitions; ++p) {
      auto& slot = *out->topics[ti]->partitions[static_cast<std::size_t>(p)];
      shared_ctx->svc.describe_partition(shared_ctx->executor, found[ti]->record.name, p,
                                         [&slot, p, leader, join, out](result<partition_status> r) {
                                           fill(slot, p, leader, r);
                                           join->arrive();
                                         });
    }
  }
}

}  // namespace sluice
