// AlterConfigs: incremental (set + reset), validated whole, through the controller.

#include "broker/handlers/topic_admin.h"

namespace sluice {

void handle_alter_configs(request_context ctx) {
  const auto* req = ctx.request->body_as_AlterConfigsRequest();
  std::vector<std::string> reset;
  if (req->reset() != nullptr) {
    for (const auto* name : *req->reset()) reset.push_back(name->str());
  }
  auto shared_ctx = std::make_shared<request_context>(std::move(ctx));
  auto name = req->topic()->str();
  shared_ctx->svc.alter_topic_config(shared_ctx->executor, name, read_config_entries(req->set()),
                                     std::move(reset), req->validate_only(),
                                     [shared_ctx, name](result<void> r) {
                                       wire::AlterConfigsResponseT out;
                                       out.topic = topic_result(name, r);
                                       response_builder b;
                                       b.finish_object(shared_ctx->request_id(), out);
                                       shared_ctx->respond(std::move(b));
                                     });
}

}  // namespace sluice
