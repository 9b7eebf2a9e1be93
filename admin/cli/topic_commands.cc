#include "admin/cli/topic_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "admin/admin.h"
#include "admin/cli/client_options.h"
#include "admin/cli/key_value.h"
#include "admin/cli/topic_format.h"

namespace sluice::cli {

namespace {

struct create_options {
  std::string name;
  std::int32_t partitions = 1;
  std::vector<std::string> configs;
  bool validate_only = false;
};

struct names_options {
  std::vector<std::string> names;
  bool json = false;
};

struct alter_options {
  std::string name;
  std::vector<std::string> configs;
  std::vector<std::string> resets;
  bool validate_only = false;
};

// Runs `body` with an admin client, or reports why none could be made.
template <class Body>
exit_code with_admin(const command_context& ctx, Body body) {
  auto a = admin::create(make_admin_config(ctx));
  if (!a) return report_failure("connect to " + ctx.brokers, a.error());
  return body(**a);
}

exit_code run_create(const command_context& ctx, const create_options& o) {
  auto configs = parse_config_map(o.configs, "--config");
  if (!configs) return report_usage(configs.error().detail);
  return with_admin(ctx, [&](admin& a) {
    const topic_spec spec{.name = o.name, .partitions = o.partitions, .configs = *configs};
    if (auto r = a.create_topic(spec, o.validate_only); !r) {
      return report_failure("create topic " + o.name, r.error());
    }
    fmt::print("{} topic {} ({} partition{})\n", o.validate_only ? "validated" : "created", o.name,
               o.partitions, o.partitions == 1 ? "" : "s");
    return exit_code::ok;
  });
}

exit_code run_list(const command_context& ctx, const names_options& /*unused*/) {
  return with_admin(ctx, [&](admin& a) {
    auto names = a.list_topics();
    if (!names) return report_failure("list topics", names.error());
    std::ranges::sort(*names);
    for (const auto& n : *names) fmt::print("{}\n", n);
    return exit_code::ok;
  });
}

exit_code run_describe(const command_context& ctx, const names_options& o) {
  return with_admin(ctx, [&](admin& a) {
    auto topics = a.describe_topics(o.names);
    if (!topics) {
      return report_failure(
          o.names.size() == 1 ? "describe topic " + o.names[0] : "describe topics", topics.error());
    }
    std::ranges::sort(*topics, {}, &topic_description::name);
    for (std::size_t i = 0; i < topics->size(); ++i) {
      const auto& t = (*topics)[i];
      if (o.json) {
        fmt::print("{}\n", format_description_json(t));
      } else {
        fmt::print("{}{}", i == 0 ? "" : "\n", format_description_text(t));
      }
    }
    return exit_code::ok;
  });
}

exit_code run_delete(const command_context& ctx, const names_options& o) {
  return with_admin(ctx, [&](admin& a) {
    // Every name is tried: one missing topic does not leave the others in place. The exit code
    // is the first failure's.
    exit_code code = exit_code::ok;
    for (const auto& name : o.names) {
      if (auto r = a.delete_topic(name); !r) {
        const auto failed = report_failure("delete topic " + name, r.error());
        if (code == exit_code::ok) code = failed;
        continue;
      }
      fmt::print("deleted topic {}\n", name);
    }
    return code;
  });
}

exit_code run_alter(const command_context& ctx, const alter_options& o) {
  if (o.configs.empty() && o.resets.empty()) {
    return report_usage("topic alter: give at least one --config NAME=VALUE or --reset NAME");
  }
  auto set = parse_config_map(o.configs, "--config");
  if (!set) return report_usage(set.error().detail);
  return with_admin(ctx, [&](admin& a) {
    if (auto r = a.alter_topic_config(o.name, *set, o.resets, o.validate_only); !r) {
      return report_failure("alter topic " + o.name, r.error());
    }
    fmt::print("{} configs of topic {}\n", o.validate_only ? "validated" : "altered", o.name);
    return exit_code::ok;
  });
}

void add_create(CLI::App& topic, command_context& ctx) {
  auto o = std::make_shared<create_options>();
  auto* cmd = topic.add_subcommand("create", "Create a topic");
  cmd->add_option("NAME", o->name, "topic name")->required();
  cmd->add_option("-p,--partitions", o->partitions, "number of partitions")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("-c,--config", o->configs,
                  "topic config NAME=VALUE, repeatable: retention.ms, retention.bytes, "
                  "segment.bytes, segment.ms, flush (always|interval:MS), max.message.bytes")
      ->check(key_value_validator("--config"));
  cmd->add_flag("--validate-only", o->validate_only, "let the broker check, create nothing");
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_create);
}

void add_list(CLI::App& topic, command_context& ctx) {
  auto o = std::make_shared<names_options>();
  auto* cmd = topic.add_subcommand("list", "Print every topic's name, one per line, sorted");
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_list);
}

void add_describe(CLI::App& topic, command_context& ctx) {
  auto o = std::make_shared<names_options>();
  auto* cmd = topic.add_subcommand(
      "describe",
      "Show topics: configs (broker defaults marked) and per partition the leader, log start "
      "offset, high watermark, log end offset, size and segment count");
  cmd->add_option("NAME", o->names, "topics to describe (default: all)");
  cmd->add_flag("--json", o->json, "one JSON object per topic per line");
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_describe);
}

void add_delete(CLI::App& topic, command_context& ctx) {
  auto o = std::make_shared<names_options>();
  auto* cmd = topic.add_subcommand("delete", "Delete topics and all their data");
  cmd->add_option("NAME", o->names, "topics to delete")->required();
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_delete);
}

void add_alter(CLI::App& topic, command_context& ctx) {
  auto o = std::make_shared<alter_options>();
  auto* cmd = topic.add_subcommand(
      "alter", "Change a topic's configs; all changes apply together or none does");
  cmd->add_option("NAME", o->name, "topic name")->required();
  cmd->add_option("-c,--config", o->configs, "set NAME=VALUE, repeatable")
      ->check(key_value_validator("--config"));
  cmd->add_option("--reset", o->resets, "return NAME to the broker default, repeatable");
  cmd->add_flag("--validate-only", o->validate_only, "let the broker check, change nothing");
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_alter);
}

}  // namespace

void add_topic_commands(CLI::App& app, command_context& ctx) {
  auto* topic = app.add_subcommand("topic", "Create, list, describe, delete and alter topics");
  topic->require_subcommand(1);
  add_create(*topic, ctx);
  add_list(*topic, ctx);
  add_describe(*topic, ctx);
  add_delete(*topic, ctx);
  add_alter(*topic, ctx);
}

}  // namespace sluice::cli
