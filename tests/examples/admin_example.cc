// Creates a topic with configs, lists and describes topics, alters a config, deletes the topic.
//
//   example-admin [BROKERS [TOPIC]]
//
// BROKERS as for example-producer; TOPIC (default "example-topic") must not exist yet.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>

#include "admin/admin.h"

namespace {

void print_topic(const sluice::topic_description& t) {
  fmt::print("topic {} (id {}), {} partitions\n", t.name, t.topic_id, t.partitions.size());
  for (const auto& p : t.partitions) {
    fmt::print("  partition {}: leader {}, offsets {}..{}, {} bytes in {} segments\n", p.partition,
               p.leader, p.log_start_offset, p.high_watermark, p.size_bytes, p.segments);
  }
  for (const auto& c : t.configs) {
    if (!c.is_default) fmt::print("  {} = {}\n", c.name, c.value);
  }
}

}  // namespace

int main(int argc, char** argv) {
  sluice::admin_config config;
  if (argc > 1) config.brokers = argv[1];
  const std::string topic = argc > 2 ? argv[2] : "example-topic";

  auto created = sluice::admin::create(config);
  if (!created) {
    fmt::print(stderr, "cannot create the admin client: {}\n", created.error().message());
    return 1;
  }
  sluice::admin& admin = **created;
  // Every call is synchronous; a failure carries the broker's error code and message.
  auto check = [](const char* what, const auto& r) {
    if (!r) fmt::print(stderr, "{}: {}\n", what, r.error().message());
    return r.has_value();
  };

  auto made = admin.create_topic({.name = topic,
                                  .partitions = 3,
                                  .configs = {{"retention.ms", "86400000"},  // one day
                                              {"segment.bytes", "16777216"}}});
  if (!check("create", made)) return 1;
  fmt::print("created {}\n", topic);

  auto names = admin.list_topics();
  if (!check("list", names)) return 1;
  fmt::print("topics: {}\n", fmt::join(*names, ", "));

  auto described = admin.describe_topic(topic);
  if (!check("describe", described)) return 1;
  print_topic(*described);

  // Incremental: sets retention.ms, returns segment.bytes to the broker's default.
  auto altered = admin.alter_topic_config(topic, {{"retention.ms", "3600000"}}, {"segment.bytes"});
  if (!check("alter", altered)) return 1;
  described = admin.describe_topic(topic);
  if (!check("describe", described)) return 1;
  fmt::print("after alter:\n");
  print_topic(*described);

  auto deleted = admin.delete_topic(topic);
  if (!check("delete", deleted)) return 1;
  fmt::print("deleted {}\n", topic);
  return 0;
}
