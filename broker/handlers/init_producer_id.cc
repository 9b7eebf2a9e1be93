// InitProducerId: a new producer id (epoch 0) for an idempotent producer.

#include "broker/handlers/request_context.h"
#include "broker/wire_error_mapping.h"

namespace sluice {

void handle_init_producer_id(request_context ctx) {
  auto shared_ctx = std::make_shared<request_context>(std::move(ctx));
  shared_ctx->svc.init_producer_id(shared_ctx->executor, [shared_ctx](result<std::int64_t> r) {
    response_builder b;
    if (!r) {
      b.finish_error(shared_ctx->request_id(), to_wire_error(r.error()), r.error().message());
    } else {
      wire::InitProducerIdResponseT out;
      out.producer_id = *r;
      out.producer_epoch = 0;
      b.finish_object(shared_ctx->request_id(), out);
    }
    shared_ctx->respond(std::move(b));
  });
}

}  // namespace sluice
