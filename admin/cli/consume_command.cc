#include "admin/cli/consume_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>

#include "admin/admin.h"
#include "admin/cli/client_options.h"
#include "admin/cli/produce_summary.h"
#include "admin/cli/record_format.h"
#include "admin/cli/stop_signal.h"
#include "admin/cli/timestamp_parse.h"
#include "consumer/consumer.h"
#include "protocol/wire_errc.h"

namespace sluice::cli {

namespace {

constexpr auto poll_timeout = std::chrono::milliseconds(200);

struct consume_options {
  std::string topic;
  bool from_beginning = false;
  std::int64_t offset = -1;  // >= 0: --offset
  std::string from_time;     // non-empty: --from-time
  std::int32_t partition = -1;
  bool follow = false;
  std::uint64_t count = 0;  // 0: no limit
  std::string format = "text";
  text_format text;
};

// Where each partition ends for this run: its high watermark when the command started
// (ignored with --follow).
using end_offsets = std::map<std::int32_t, std::int64_t>;

struct consume_plan {
  std::vector<topic_partition> partitions;
  end_offsets ends;
};

// The partitions to read and their ends, from the broker's description of the topic.
result<consume_plan> plan_consume(const command_context& ctx, const consume_options& o) {
  auto a = with_stop_signals_blocked([&] { return admin::create(make_admin_config(ctx)); });
  if (!a) return a.error();
  auto t = (*a)->describe_topic(o.topic);
  if (!t) return t.error();
  consume_plan plan;
  for (const auto& p : t->partitions) {
    if (o.partition >= 0 && p.partition != o.partition) continue;
    // Past the end there is nothing to wait for: the broker would refuse the fetch.
    if (o.offset > p.high_watermark) {
      return error{wire::make_error_code(wire::ErrorCode::offset_out_of_range),
                   fmt::format("--offset {} is past the end of partition {} (high watermark {})",
                               o.offset, p.partition, p.high_watermark)};
    }
    plan.partitions.push_back({o.topic, p.partition});
    plan.ends[p.partition] = p.high_watermark;
  }
  if (plan.partitions.empty()) {
    return error{wire::make_error_code(wire::ErrorCode::unknown_partition),
                 fmt::format("partition {} does not exist (the topic has {})", o.partition,
                             t->partitions.size())};
  }
  return plan;
}

consumer_config::offset_reset reset_policy(const consume_options& o) {
  // An explicit --offset that is out of range is an error to report, not to paper over.
  if (o.offset >= 0) return consumer_config::offset_reset::none;
  return o.from_beginning || !o.from_time.empty() ? consumer_config::offset_reset::earliest
                                                  : consumer_config::offset_reset::latest;
}

result<void> seek_start(consumer& c, const consume_options& o, const consume_plan& plan) {
  if (o.from_beginning) return c.seek_to_beginning(plan.partitions);
  if (!o.from_time.empty()) {
    return c.seek_to_timestamp(plan.partitions, parse_timestamp_ms(o.from_time).value());
  }
  if (o.offset < 0) return c.seek_to_end(plan.partitions);
  for (const auto& tp : plan.partitions) {
    if (auto r = c.seek(tp, o.offset); !r) return r;
  }
  return {};
}

result<std::unique_ptr<consumer>> open_consumer(const command_context& ctx,
                                                const consume_options& o,
                                                const consume_plan& plan) {
  auto config = make_consumer_config(ctx);
  config.auto_offset_reset = reset_policy(o);
  auto c = with_stop_signals_blocked([&] { return consumer::create(config); });
  if (!c) return c.error();
  if (auto r = (*c)->assign(plan.partitions); !r) return r.error();
  if (auto r = seek_start(**c, o, plan); !r) return r.error();
  return c;
}

// Without --follow: true once every partition's position reached its end at the start.
bool reached_ends(const consumer& c, const consume_plan& plan) {
  for (const auto& tp : plan.partitions) {
    auto pos = c.position(tp);
    if (!pos || *pos < plan.ends.at(tp.partition)) return false;
  }
  return true;
}

// Prints records to stdout and counts those whose line the kernel took whole: a reader that
// went away (`| head`) is not told it received records that were still in a buffer.
class record_printer {
 public:
  record_printer(const consume_options& o, const consume_plan& plan) : o_(o), plan_(plan) {}

  // Prints what belongs to this run; false once --count is reached or stdout failed.
  bool print(const std::vector<consumer_record>& records) {
    bool more = true;
    for (const auto& r : records) {
      if (!o_.follow && r.offset >= plan_.ends.at(r.partition)) continue;  // arrived after start
      pending_ += o_.format == "json" ? format_json(r) : format_text(r, o_.text);
      pending_ += '\n';
      line_ends_.push_back(pending_.size());
      if (printed_ + line_ends_.size() == o_.count) {
        more = false;
        break;
      }
    }
    return write_pending() && more;
  }
  [[nodiscard]] std::uint64_t printed() const { return printed_; }
  // errno of the write that failed, 0 if none did.
  [[nodiscard]] int write_error() const { return write_errno_; }

 private:
  bool write_pending() {
    std::size_t written = 0;
    while (written < pending_.size()) {
      const auto n = ::write(STDOUT_FILENO, pending_.data() + written, pending_.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        write_errno_ = errno;
        break;
      }
      written += static_cast<std::size_t>(n);
    }
    printed_ += static_cast<std::uint64_t>(
        std::upper_bound(line_ends_.begin(), line_ends_.end(), written) - line_ends_.begin());
    pending_.clear();
    line_ends_.clear();
    return write_errno_ == 0;
  }

  const consume_options& o_;
  const consume_plan& plan_;
  std::string pending_;                 // this poll's lines
  std::vector<std::size_t> line_ends_;  // where each of them ends in pending_
  std::uint64_t printed_ = 0;
  int write_errno_ = 0;
};

exit_code finish(const record_printer& printer) {
  fmt::print(stderr, "consumed {}\n", count_of_records(printer.printed()));
  // A reader that went away (`| head`) is a normal end; any other write error is not.
  if (printer.write_error() != 0 && printer.write_error() != EPIPE) {
    return report_failure("write to stdout", make_errno_error(printer.write_error(), "stdout"));
  }
  return exit_code::ok;
}

exit_code run_consume(const command_context& ctx, const consume_options& o) {
  install_stop_signals();
  auto plan = plan_consume(ctx, o);
  if (!plan) return report_failure("consume from " + o.topic, plan.error());
  auto c = open_consumer(ctx, o, *plan);
  if (!c) return report_failure("consume from " + o.topic, c.error());
  record_printer printer(o, *plan);
  while (!stop_requested() && (o.follow || !reached_ends(**c, *plan))) {
    auto records = (*c)->poll(poll_timeout);
    if (!records) return report_failure("consume from " + o.topic, records.error());
    if (!printer.print(*records)) break;
  }
  (*c)->close();
  return finish(printer);
}

void add_start_options(CLI::App& cmd, consume_options& o) {
  auto* begin = cmd.add_flag("--from-beginning", o.from_beginning,
                             "start at the log start offset (default: at the end, new records)");
  auto* offset = cmd.add_option("--offset", o.offset, "start at this offset in each partition")
                     ->check(whole_number_validator(0));
  auto* time = cmd.add_option("--from-time", o.from_time,
                              "start at the first record with timestamp >= T: milliseconds since "
                              "the epoch or ISO-8601 (UTC unless an offset is given)")
                   ->check(timestamp_validator());
  begin->excludes(offset)->excludes(time);
  offset->excludes(time);
}

void add_output_options(CLI::App& cmd, consume_options& o) {
  cmd.add_option("--format", o.format,
                 "text: the value (see --print-key, --print-offset); json: one object per line "
                 "with topic, partition, offset, timestamp, key, value, headers")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd.add_flag("--print-key", o.text.print_key, "text: print the key before the value");
  cmd.add_flag("--print-offset", o.text.print_offset,
               "text: print Partition:P and Offset:O before the key and value");
  cmd.add_option("--separator", o.text.separator, "text: between printed fields (default: tab)");
}

}  // namespace

void add_consume_command(CLI::App& app, command_context& ctx) {
  auto o = std::make_shared<consume_options>();
  auto* cmd = app.add_subcommand(
      "consume",
      "Print records. Without --follow, stops at the high watermark each partition had when "
      "the command started; Ctrl-C (SIGINT) or SIGTERM ends it cleanly");
  cmd->add_option("TOPIC", o->topic, "topic to read")->required();
  add_start_options(*cmd, *o);
  cmd->add_option("-p,--partition", o->partition, "read only this partition (default: all)")
      ->check(whole_number_validator(0, std::numeric_limits<std::int32_t>::max()));
  cmd->add_flag("-f,--follow", o->follow, "keep waiting for new records");
  cmd->add_option("-n,--count", o->count, "stop after N records")->check(whole_number_validator(1));
  add_output_options(*cmd, *o);
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_consume);
}

}  // namespace sluice::cli
