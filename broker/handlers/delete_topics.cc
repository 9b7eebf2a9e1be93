// DeleteTopics: each topic through the controller; one result per topic.

#include "broker/handlers/topic_admin.h"

namespace sluice {

void handle_delete_topics(request_context ctx) {
  const auto* req = ctx.request->body_as_DeleteTopicsRequest();
  const auto n = req->names() != nullptr ? req->names()->size() : 0;
  auto out = std::make_shared<wire::DeleteTopicsResponseT>();
  out->topics.resize(n);
  auto shared_ctx = std::make_shared<request_context>(std::move(ctx));
  auto join = std::make_shared<fan_in>(n, [shared_ctx, out] {
    response_builder b;
    b.finish_object(shared_ctx->request_id(), *out);
    shared_ctx->respond(std::move(b));
  });
  for (std::size_t i = 0; i < n; ++i) {
    auto name = req->names()->Get(static_cast<flatbuffers::uoffset_t>(i))->str();
    shared_ctx->svc.delete_topic(shared_ctx->executor, name, [out, join, i, name](result<void> r) {
      out->topics[i] = topic_result(name, r);
      join->arrive();
    });
  }
}

}  // namespace sluice
