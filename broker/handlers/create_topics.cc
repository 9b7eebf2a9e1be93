// CreateTopics: each topic through the controller; one result per topic.

#include "broker/handlers/topic_admin.h"

namespace sluice {

void handle_create_topics(request_context ctx) {
  const auto* req = ctx.request->body_as_CreateTopicsRequest();
  const auto n = req->topics() != nullptr ? req->topics()->size() : 0;
  auto out = std::make_shared<wire::CreateTopicsResponseT>();
  out->topics.resize(n);
  auto shared_ctx = std::make_shared<request_context>(std::move(ctx));
  auto join = std::make_shared<fan_in>(n, [shared_ctx, out] {
    response_builder b;
    b.finish_object(shared_ctx->request_id(), *out);
    shared_ctx->respond(std::move(b));
  });
  for (std::size_t i = 0; i < n; ++i) {
    const auto* t = req->topics()->Get(static_cast<flatbuffers::uoffset_t>(i));
    shared_ctx->svc.create_topic(shared_ctx->executor, t->name()->str(), t->partitions(),
                                 read_config_entries(t->configs()), req->validate_only(),
                                 [out, join, i, name = t->name()->str()](result<void> r) {
                                   out->topics[i] = topic_result(name, r);
                                   join->arrive();
                                 });
  }
}

}  // namespace sluice
