#include "consumer/fetch_request.h"

#include <fmt/format.h>

#include "protocol/client/client_errc.h"

namespace sluice::consumer_detail {

using flatbuffers::Offset;

request_builder fetch_request(const std::vector<fetch_target>& targets,
                              const consumer_config& config) {
  request_builder req;
  auto& fbb = req.fbb();
  std::vector<Offset<wire::FetchTopic>> topics;
  std::vector<Offset<wire::FetchPartition>> partitions;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    partitions.push_back(wire::CreateFetchPartition(fbb, targets[i].tp.partition, targets[i].offset,
                                                    config.max_partition_fetch_bytes));
    if (i + 1 == targets.size() || targets[i + 1].tp.topic != targets[i].tp.topic) {
      topics.push_back(wire::CreateFetchTopicDirect(fbb, targets[i].tp.topic.c_str(), &partitions));
      partitions.clear();
    }
  }
  req.set_body(
      wire::CreateFetchRequestDirect(fbb, static_cast<std::int32_t>(config.fetch_max_wait.count()),
                                     config.fetch_min_bytes, config.fetch_max_bytes, &topics));
  return req;
}

result<std::vector<fetched_partition>> read_fetch_response(const response_frame& frame) {
  const auto* body = frame.body<wire::FetchResponse>();
  if (body == nullptr) {
    return make_error(client_errc::protocol_violation, "Fetch response without a body");
  }
  std::vector<fetched_partition> out;
  if (body->topics() == nullptr) return out;
  for (const auto* t : *body->topics()) {
    if (t->name() == nullptr || t->partitions() == nullptr) continue;
    for (const auto* p : *t->partitions()) {
      fetched_partition& f = out.emplace_back();
      f.tp = {t->name()->str(), p->partition()};
      f.error = p->error();
      if (p->error_message() != nullptr) f.error_message = p->error_message()->str();
      f.high_watermark = p->high_watermark();
      f.log_start_offset = p->log_start_offset();
      if (p->records() == nullptr || p->records()->length() == 0) continue;
      auto bytes = frame.payload_bytes(
          p->records(), fmt::format("fetch answer for {}-{}", f.tp.topic, f.tp.partition));
      if (!bytes) return bytes.error();
      f.records = *bytes;
    }
  }
  return out;
}

}  // namespace sluice::consumer_detail
