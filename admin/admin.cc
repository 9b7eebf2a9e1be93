// The admin facade: each call builds its request (topic_requests.h, cluster_requests.h), sends
// it on the channel and reads the answer.

#include "admin/admin.h"

#include <fmt/format.h>

#include <algorithm>

#include "admin/admin_channel.h"
#include "admin/cluster_requests.h"
#include "admin/topic_requests.h"
#include "protocol/client/client_errc.h"

namespace sluice {

using admin_detail::admin_channel;
using resend = admin_channel::resend;

namespace {

// The broker opens and syncs every new partition's files before it answers a creation, a few
// milliseconds each on a plain disk, so a topic of thousands of partitions takes longer than
// request_timeout: the caller must not be told it failed while it is still being made.
constexpr std::chrono::milliseconds per_partition_opened{20};
// A deletion closes each partition (about 3 ms each); the client does not know how many.
constexpr std::chrono::milliseconds time_to_close_any_topic{60'000};

std::chrono::milliseconds time_to_open_partitions(std::int32_t partitions) {
  return per_partition_opened * partitions;
}

}  // namespace

struct admin::impl {
  impl(std::vector<broker_address> bootstrap, client_connection::options opts)
      : channel(std::move(bootstrap), std::move(opts)) {}
  admin_channel channel;
};

result<void> admin_config::validate() const {
  if (request_timeout.count() <= 0) {
    return make_error(
        client_errc::invalid_argument,
        fmt::format("request_timeout must be positive, not {} ms", request_timeout.count()));
  }
  if (auto b = bootstrap_brokers(brokers); !b) return b.error();
  return {};
}

result<std::unique_ptr<admin>> admin::create(admin_config config) {
  if (auto v = config.validate(); !v) return v.error();
  auto bootstrap = bootstrap_brokers(config.brokers);
  if (!bootstrap) return bootstrap.error();
  client_connection::options opts;
  opts.client_id = config.client_id;
  opts.request_timeout = config.request_timeout;
  return std::unique_ptr<admin>(
      new admin(std::make_unique<impl>(std::move(*bootstrap), std::move(opts))));
}

admin::admin(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
admin::~admin() = default;

result<void> admin::create_topic(const topic_spec& spec, bool validate_only) {
  const auto opening = validate_only ? std::chrono::milliseconds{0}
                                     : time_to_open_partitions(std::max(spec.partitions, 0));
  auto r =
      impl_->channel.call([&] { return admin_detail::create_topics_request(spec, validate_only); },
                          resend::never, opening);
  if (!r) return r.error();
  return admin_detail::read_create_topics(*r, spec.name);
}

result<void> admin::delete_topic(const std::string& name) {
  auto r = impl_->channel.call([&] { return admin_detail::delete_topics_request(name); },
                               resend::never, time_to_close_any_topic);
  if (!r) return r.error();
  return admin_detail::read_delete_topics(*r, name);
}

result<std::vector<std::string>> admin::list_topics() {
  auto cluster = describe_cluster();
  if (!cluster) return cluster.error();
  std::vector<std::string> names;
  for (auto& t : cluster->topics) names.push_back(std::move(t.name));
  std::sort(names.begin(), names.end());
  return names;
}

result<topic_description> admin::describe_topic(const std::string& name) {
  auto all = describe_topics({name});
  if (!all) return all.error();
  for (auto& t : *all) {
    if (t.name == name) return std::move(t);
  }
  return make_error(client_errc::protocol_violation,
                    fmt::format("DescribeTopics response has no result for topic '{}'", name));
}

result<std::vector<topic_description>> admin::describe_topics(
    const std::vector<std::string>& names) {
  auto r = impl_->channel.call([&] { return admin_detail::describe_topics_request(names); },
                               resend::once_if_connection_lost);
  if (!r) return r.error();
  return admin_detail::read_describe_topics(*r);
}

result<void> admin::alter_topic_config(const std::string& name,
                                       const std::map<std::string, std::string>& set,
                                       const std::vector<std::string>& reset, bool validate_only) {
  auto r = impl_->channel.call(
      [&] { return admin_detail::alter_configs_request(name, set, reset, validate_only); },
      resend::never);
  if (!r) return r.error();
  return admin_detail::read_alter_configs(*r, name);
}

result<cluster_description> admin::describe_cluster() {
  auto r = impl_->channel.call([] { return admin_detail::metadata_request(); },
                               resend::once_if_connection_lost);
  if (!r) return r.error();
  return admin_detail::read_metadata(*r);
}

result<std::optional<std::int64_t>> admin::list_offset(const std::string& topic,
                                                       std::int32_t partition, std::int64_t spec) {
  auto r = impl_->channel.call(
      [&] { return admin_detail::list_offsets_request(topic, partition, spec); },
      resend::once_if_connection_lost);
  if (!r) return r.error();
  return admin_detail::read_list_offsets(*r, topic, partition);
}

}  // namespace sluice
