#include "consumer/offset_requests.h"

#include <fmt/format.h>

#include "protocol/client/client_errc.h"
#include "protocol/wire_errc.h"

namespace sluice::consumer_detail {
namespace {

using flatbuffers::Offset;

// The broker's error with its message, or a message naming `subject` when it sent none.
error broker_error(wire::ErrorCode code, const flatbuffers::String* message,
                   std::string_view subject) {
  std::string detail = message != nullptr ? message->str() : std::string();
  return error{wire::make_error_code(code),
               detail.empty() ? std::string(subject) : std::move(detail)};
}

}  // namespace

request_builder list_offsets_request(const std::vector<topic_partition>& tps, std::int64_t spec) {
  request_builder req;
  auto& fbb = req.fbb();
  std::map<std::string, std::vector<std::int32_t>> by_topic;
  for (const auto& tp : tps) by_topic[tp.topic].push_back(tp.partition);
  std::vector<Offset<wire::ListOffsetsTopic>> topics;
  for (const auto& [topic, partitions] : by_topic) {
    std::vector<Offset<wire::ListOffsetsPartition>> entries;
    for (auto p : partitions) entries.push_back(wire::CreateListOffsetsPartition(fbb, p, spec));
    topics.push_back(wire::CreateListOffsetsTopicDirect(fbb, topic.c_str(), &entries));
  }
  req.set_body(wire::CreateListOffsetsRequestDirect(fbb, &topics));
  return req;
}

result<std::map<topic_partition, result<std::int64_t>>> read_list_offsets(
    const response_frame& frame, const std::vector<topic_partition>& asked,
    bool end_when_none_that_late) {
  const auto* body = frame.body<wire::ListOffsetsResponse>();
  if (body == nullptr) {
    return make_error(client_errc::protocol_violation, "ListOffsets response without a body");
  }
  std::map<topic_partition, result<std::int64_t>> out;
  if (body->topics() != nullptr) {
    for (const auto* t : *body->topics()) {
      if (t->name() == nullptr || t->partitions() == nullptr) continue;
      for (const auto* p : *t->partitions()) {
        topic_partition tp{t->name()->str(), p->partition()};
        if (p->error() != wire::ErrorCode::none) {
          out.insert_or_assign(tp, broker_error(p->error(), p->error_message(), to_string(tp)));
        } else if (p->offset() < 0 && end_when_none_that_late) {
          out.insert_or_assign(tp, p->log_end_offset());
        } else {
          out.insert_or_assign(tp, p->offset());
        }
      }
    }
  }
  for (const auto& tp : asked) {
    if (!out.contains(tp)) {
      return make_error(client_errc::protocol_violation,
                        fmt::format("ListOffsets response has no result for {}", to_string(tp)));
    }
  }
  return out;
}

request_builder metadata_request(const std::vector<std::string>& topics) {
  request_builder req;
  auto& fbb = req.fbb();
  req.set_body(wire::CreateMetadataRequest(fbb, fbb.CreateVectorOfStrings(topics)));
  return req;
}

result<std::map<std::string, std::int32_t>> read_partition_counts(
    const response_frame& frame, const std::vector<std::string>& asked) {
  const auto* body = frame.body<wire::MetadataResponse>();
  if (body == nullptr) {
    return make_error(client_errc::protocol_violation, "Metadata response without a body");
  }
  std::map<std::string, std::int32_t> out;
  if (body->topics() != nullptr) {
    for (const auto* t : *body->topics()) {
      if (t->name() == nullptr) continue;
      const auto subject = fmt::format("topic '{}'", t->name()->str());
      if (t->error() != wire::ErrorCode::none) {
        return broker_error(t->error(), t->error_message(), subject);
      }
      const auto count = t->partitions() != nullptr ? t->partitions()->size() : 0U;
      out[t->name()->str()] = static_cast<std::int32_t>(count);
    }
  }
  for (const auto& topic : asked) {
    if (!out.contains(topic)) {
      return make_error(wire::ErrorCode::unknown_topic,
                        fmt::format("topic '{}' does not exist", topic));
    }
  }
  return out;
}

}  // namespace sluice::consumer_detail
