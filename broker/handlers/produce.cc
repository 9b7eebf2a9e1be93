// Produce: one batch per partition, appended on the partition's shard; answered when every
// partition has its outcome (acks=1/-1) or not at all (acks=0).

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/errc.h"
#include "broker/handlers/error_fields.h"
#include "broker/handlers/request_context.h"
#include "protocol/frame.h"

namespace sluice {
namespace {

struct produce_state {
  request_context ctx;
  wire::ProduceResponseT response;
  bool acks_none = false;
};

// The batch's bytes where they arrived, inside the request's frame: appended from there.
held_bytes frame_part(const request_context& ctx, byte_span part) {
  const auto at = static_cast<std::size_t>(part.data() - ctx.frame.data());
  return ctx.frame.part(ctx.frame.span().subspan(at, part.size()));
}

void produce_partition(const std::shared_ptr<produce_state>& state,
                       const std::shared_ptr<fan_in>& join, const std::string& topic,
                       const wire::ProducePartition& p, wire::ProducePartitionResultT& out) {
  out.partition = p.partition();
  auto bytes = payload_bytes(state->ctx.payload, p.records(),
                             fmt::format("produce to {}-{}", topic, p.partition()));
  if (!bytes) {
    set_error(out, bytes.error());
    join->arrive();
    return;
  }
  state->ctx.svc.produce(state->ctx.executor, topic, p.partition(), frame_part(state->ctx, *bytes),
                         [join, &out](result<produce_outcome> r) {
                           if (r) {
                             out.base_offset = r->base_offset.value;
                             out.log_start_offset = r->log_start_offset.value;
                             out.duplicate = r->duplicate;
                           } else {
                             set_error(out, r.error());
                           }
                           join->arrive();
                         });
}

// acks=0: no response; a refused batch closes the connection so the producer notices.
void finish_without_response(produce_state& state) {
  state.ctx.respond(std::nullopt);
  for (const auto& t : state.response.topics) {
    for (const auto& p : t->partitions) {
      if (p->error == wire::ErrorCode::none) continue;
      state.ctx.close_connection(fmt::format("acks=0 produce to {}-{} failed: {}", t->name,
                                             p->partition, p->error_message));
      return;
    }
  }
}

// Two partitions' batches sharing payload bytes: each log stamps its offsets into its batch in
// place, so they would write over each other. No producer sends that; it is refused whole.
std::optional<std::string> overlapping_batches(const wire::ProduceRequest& req) {
  struct range {
    std::uint64_t begin, end;
    std::string_view topic;
    std::int32_t partition;
  };
  std::vector<range> ranges;
  if (req.topics() == nullptr) return std::nullopt;
  for (const auto* t : *req.topics()) {
    if (t->partitions() == nullptr) continue;
    for (const auto* p : *t->partitions()) {
      const auto* r = p->records();
      if (r == nullptr || r->length() == 0) continue;
      const std::string_view topic = t->name()->string_view();  // required: verified
      ranges.push_back(
          {r->offset(), std::uint64_t{r->offset()} + r->length(), topic, p->partition()});
    }
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const range& a, const range& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      return fmt::format("the records of {}-{} and {}-{} overlap in the request's payload",
                         ranges[i - 1].topic, ranges[i - 1].partition, ranges[i].topic,
                         ranges[i].partition);
    }
  }
  return std::nullopt;
}

std::size_t count_partitions(const wire::ProduceRequest& req) {
  std::size_t n = 0;
  if (req.topics() == nullptr) return 0;
  for (const auto* t : *req.topics()) n += t->partitions() != nullptr ? t->partitions()->size() : 0;
  return n;
}

}  // namespace

void handle_produce(request_context ctx) {
  const auto* req = ctx.request->body_as_ProduceRequest();
  const auto acks = req->acks();
  if (acks != 0 && acks != 1 && acks != -1) {
    response_builder b;
    b.finish_error(ctx.request_id(), wire::ErrorCode::invalid_request,
                   fmt::format("acks must be 0, 1 or -1, got {}", acks));
    ctx.respond(std::move(b));
    return;
  }
  if (auto overlap = overlapping_batches(*req)) {
    response_builder b;
    b.finish_error(ctx.request_id(), wire::ErrorCode::invalid_request, *overlap);
    ctx.respond(std::move(b));
    return;
  }
  auto state = std::make_shared<produce_state>(produce_state{std::move(ctx), {}, acks == 0});
  // Results are filled in place: reserve every slot before any append can complete.
  if (req->topics() != nullptr) {
    for (const auto* t : *req->topics()) {
      auto tr = std::make_unique<wire::ProduceTopicResultT>();
      tr->name = t->name()->str();
      const auto n = t->partitions() != nullptr ? t->partitions()->size() : 0;
      for (std::size_t i = 0; i < n; ++i) {
        tr->partitions.push_back(std::make_unique<wire::ProducePartitionResultT>());
      }
      state->response.topics.push_back(std::move(tr));
    }
  }
  auto join = std::make_shared<fan_in>(count_partitions(*req), [state] {
    if (state->acks_none) return finish_without_response(*state);
    response_builder b;
    b.finish_object(state->ctx.request_id(), state->response);
    state->ctx.respond(std::move(b));
  });
  if (req->topics() == nullptr) return;
  for (std::size_t ti = 0; ti < req->topics()->size(); ++ti) {
    const auto* t = req->topics()->Get(static_cast<flatbuffers::uoffset_t>(ti));
    if (t->partitions() == nullptr) continue;
    for (std::size_t pi = 0; pi < t->partitions()->size(); ++pi) {
      auto& out = *state->response.topics[ti]->partitions[pi];
      produce_partition(state, join, state->response.topics[ti]->name,
                        *t->partitions()->Get(static_cast<flatbuffers::uoffset_t>(pi)), out);
    }
  }
}

}  // namespace sluice
