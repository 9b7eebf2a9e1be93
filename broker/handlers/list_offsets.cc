// ListOffsets: earliest (-2), latest (-1), or the first offset at or after a timestamp.

#include <fmt/format.h>

#include "broker/handlers/error_fields.h"
#include "broker/handlers/request_context.h"
#include "protocol/wire_errc.h"

namespace sluice {

void handle_list_offsets(request_context ctx) {
  const auto* req = ctx.request->body_as_ListOffsetsRequest();
  auto out = std::make_shared<wire::ListOffsetsResponseT>();
  std::size_t n = 0;
  if (req->topics() != nullptr) {
    for (const auto* t : *req->topics()) {
      auto tr = std::make_unique<wire::ListOffsetsTopicResultT>();
      tr->name = t->name()->str();
      if (t->partitions() != nullptr) {
        for (std::size_t i = 0; i < t->partitions()->size(); ++i) {
          tr->partitions.push_back(std::make_unique<wire::ListOffsetsPartitionResultT>());
        }
        n += t->partitions()->size();
      }
      out->topics.push_back(std::move(tr));
    }
  }
  auto shared_ctx = std::make_shared<request_context>(std::move(ctx));
  auto join = std::make_shared<fan_in>(n, [shared_ctx, out] {
    response_builder b;
    b.finish_object(shared_ctx->request_id(), *out);
    shared_ctx->respond(std::move(b));
  });
  if (req->topics() == nullptr) return;
  for (std::size_t ti = 0; ti < req->topics()->size(); ++ti) {
    const auto* t = req->topics()->Get(static_cast<flatbuffers::uoffset_t>(ti));
    if (t->partitions() == nullptr) continue;
    for (std::size_t pi = 0; pi < t->partitions()->size(); ++pi) {
      const auto* p = t->partitions()->Get(static_cast<flatbuffers::uoffset_t>(pi));
      auto& slot = *out->topics[ti]->partitions[pi];
      slot.partition = p->partition();
      if (p->timestamp() < -2) {
        set_error(slot, make_error(wire::ErrorCode::invalid_request,
                                   fmt::format("timestamp {} is neither -2 (earliest), -1 (latest) "
                                               "nor a time (>= 0)",
                                               p->timestamp())));
        join->arrive();
        continue;
      }
      shared_ctx->svc.list_offset(shared_ctx->executor, out->topics[ti]->name, p->partition(),
                                  p->timestamp(),
                                  [&slot, join, out](result<partition::listed_offset> r) {
                                    if (!r) {
                                      set_error(slot, r.error());
                                    } else {
                                      if (r->found) slot.offset = r->found->value;
                                      slot.log_end_offset = r->log_end.value;
                                    }
                                    join->arrive();
                                  });
    }
  }
}

}  // namespace sluice
