#include "admin/topic_requests.h"

#include <fmt/format.h>

#include "admin/response_checks.h"

namespace sluice::admin_detail {
namespace {

using flatbuffers::Offset;

std::string topic_subject(const std::string& name) {
  return fmt::format("topic '{}'", name);
}

// The TopicResult for `name` in a CreateTopics / DeleteTopics response.
result<void> read_topic_result(const flatbuffers::Vector<Offset<wire::TopicResult>>* results,
                               std::string_view api, const std::string& name) {
  if (results != nullptr) {
    for (const auto* t : *results) {
      // An empty name may arrive as no name at all (flatbuffers leaves empty strings out).
      const auto result_name = t->name() != nullptr ? t->name()->string_view() : "";
      if (result_name == name) {
        return broker_result(t->error(), t->error_message(), topic_subject(name));
      }
    }
  }
  return missing_result(api, topic_subject(name));
}

partition_description read_partition(const wire::PartitionDescription& p) {
  partition_description out;
  out.partition = p.partition();
  out.leader = p.leader();
  out.log_start_offset = p.log_start_offset();
  out.high_watermark = p.high_watermark();
  out.log_end_offset = p.log_end_offset();
  out.size_bytes = p.size_bytes();
  out.segments = p.segments();
  if (auto r =
          broker_result(p.error(), p.error_message(), fmt::format("partition {}", p.partition()));
      !r) {
    out.problem = r.error();
  }
  return out;
}

topic_description read_description(const wire::TopicDescription& t) {
  topic_description out;
  out.name = text_of(t.name());
  out.topic_id = text_of(t.topic_id());
  if (t.configs() != nullptr) {
    for (const auto* c : *t.configs()) {
      out.configs.push_back({c->name()->str(), text_of(c->value()), c->is_default()});
    }
  }
  if (t.partitions() != nullptr) {
    for (const auto* p : *t.partitions()) out.partitions.push_back(read_partition(*p));
  }
  return out;
}

}  // namespace

request_builder create_topics_request(const topic_spec& spec, bool validate_only) {
  request_builder req;
  auto& fbb = req.fbb();
  std::vector<Offset<wire::ConfigEntry>> configs;
  for (const auto& [name, value] : spec.configs) {
    configs.push_back(wire::CreateConfigEntryDirect(fbb, name.c_str(), value.c_str()));
  }
  const auto topic = wire::CreateNewTopicDirect(fbb, spec.name.c_str(), spec.partitions, &configs);
  const std::vector<Offset<wire::NewTopic>> topics{topic};
  req.set_body(wire::CreateCreateTopicsRequestDirect(fbb, &topics, validate_only));
  return req;
}

result<void> read_create_topics(const response_frame& frame, const std::string& name) {
  auto body = body_of<wire::CreateTopicsResponse>(frame, "CreateTopics");
  if (!body) return body.error();
  return read_topic_result((*body)->topics(), "CreateTopics", name);
}

request_builder delete_topics_request(const std::string& name) {
  request_builder req;
  auto& fbb = req.fbb();
  const std::vector<Offset<flatbuffers::String>> names{fbb.CreateString(name)};
  req.set_body(wire::CreateDeleteTopicsRequestDirect(fbb, &names));
  return req;
}

result<void> read_delete_topics(const response_frame& frame, const std::string& name) {
  auto body = body_of<wire::DeleteTopicsResponse>(frame, "DeleteTopics");
  if (!body) return body.error();
  return read_topic_result((*body)->topics(), "DeleteTopics", name);
}

request_builder describe_topics_request(const std::vector<std::string>& names) {
  request_builder req;
  auto& fbb = req.fbb();
  Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> list;
  if (!names.empty()) list = fbb.CreateVectorOfStrings(names);
  req.set_body(wire::CreateDescribeTopicsRequest(fbb, list));
  return req;
}

result<std::vector<topic_description>> read_describe_topics(const response_frame& frame) {
  auto body = body_of<wire::DescribeTopicsResponse>(frame, "DescribeTopics");
  if (!body) return body.error();
  std::vector<topic_description> out;
  if ((*body)->topics() == nullptr) return out;
  for (const auto* t : *(*body)->topics()) {
    if (auto r = broker_result(t->error(), t->error_message(), topic_subject(text_of(t->name())));
        !r) {
      return r.error();
    }
    out.push_back(read_description(*t));
  }
  return out;
}

request_builder alter_configs_request(const std::string& name,
                                      const std::map<std::string, std::string>& set,
                                      const std::vector<std::string>& reset, bool validate_only) {
  request_builder req;
  auto& fbb = req.fbb();
  std::vector<Offset<wire::ConfigEntry>> entries;
  entries.reserve(set.size());
  for (const auto& [key, value] : set) {
    entries.push_back(wire::CreateConfigEntryDirect(fbb, key.c_str(), value.c_str()));
  }
  const auto reset_names = fbb.CreateVectorOfStrings(reset);
  req.set_body(wire::CreateAlterConfigsRequest(
      fbb, fbb.CreateString(name), fbb.CreateVector(entries), reset_names, validate_only));
  return req;
}

result<void> read_alter_configs(const response_frame& frame, const std::string& name) {
  auto body = body_of<wire::AlterConfigsResponse>(frame, "AlterConfigs");
  if (!body) return body.error();
  const auto* t = (*body)->topic();
  if (t == nullptr) return missing_result("AlterConfigs", topic_subject(name));
  return broker_result(t->error(), t->error_message(), topic_subject(name));
}

}  // namespace sluice::admin_detail
