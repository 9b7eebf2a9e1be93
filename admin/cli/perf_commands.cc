#include "admin/cli/perf_commands.h"

#include "admin/cli/client_options.h"
#include "admin/cli/histogram_plot.h"
#include "admin/cli/perf_payload.h"

namespace sluice::cli {

namespace {

CLI::Validator plot_file_validator() {
  return CLI::Validator(
      [](std::string& file) -> std::string {
        return plot_device_for(file) ? std::string() : "--plot " + file + ": use .png or .svg";
      },
      "FILE.png|FILE.svg");
}

void add_common(CLI::App& cmd, command_context& ctx, perf_options& o) {
  cmd.add_option("-t,--topic", o.topic, "topic to use (it must exist)")->required();
  cmd.add_option("--num-records", o.num_records, "stop after this many records")
      ->check(whole_number_validator(1));
  cmd.add_option("--duration", o.duration_s, "stop after this many seconds")
      ->check(positive_seconds_validator());
  cmd.add_flag("--json", o.json,
               "end with one JSON line of the figures on stdout (progress and summary go to "
               "stderr)");
  cmd.add_option("--report-interval-ms", o.report_interval_ms, "between progress lines")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  add_brokers_option(cmd, ctx);
}

void add_sending(CLI::App& cmd, perf_options& o, std::size_t min_record_size) {
  cmd.add_option("--record-size", o.record_size, "value bytes per record")
      ->check(CLI::Range(min_record_size, std::size_t{16} << 20))
      ->capture_default_str();
  cmd.add_option("--throughput", o.throughput, "records per second to aim at; -1: unlimited")
      ->check(rate_validator())
      ->capture_default_str();
  cmd.add_option("--plot", o.plot,
                 "draw the latency histogram (log-scaled buckets) to FILE.png or FILE.svg")
      ->check(plot_file_validator());
  add_producer_options(cmd, o.producer);
}

void add_timeout(CLI::App& cmd, perf_options& o) {
  cmd.add_option("--timeout-ms", o.timeout_ms,
                 "give up (exit 1) after this long without receiving a record")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
}

}  // namespace

void add_perf_commands(CLI::App& app, command_context& ctx) {
  auto* perf = app.add_subcommand("perf", "Measure throughput and latency against a broker");
  perf->require_subcommand(1);

  auto produce = std::make_shared<perf_options>();
  auto* p = perf->add_subcommand(
      "produce", "Send records as fast as allowed; report rec/s, MiB/s and send-to-ack latency");
  add_common(*p, ctx, *produce);
  add_sending(*p, *produce, 1);
  on_parsed(*p, ctx, produce, run_perf_produce);

  auto consume = std::make_shared<perf_options>();
  auto* c = perf->add_subcommand(
      "consume",
      "Read every partition from the beginning; report rec/s and MiB/s. Without "
      "--num-records/--duration, reads up to the high watermarks at the start");
  add_common(*c, ctx, *consume);
  add_timeout(*c, *consume);
  on_parsed(*c, ctx, consume, run_perf_consume);

  auto e2e = std::make_shared<perf_options>();
  auto* e = perf->add_subcommand(
      "e2e",
      "Produce and consume in one process; report end-to-end latency (send() to receipt by "
      "the consumer)");
  add_common(*e, ctx, *e2e);
  add_sending(*e, *e2e, send_time_bytes);
  add_timeout(*e, *e2e);
  on_parsed(*e, ctx, e2e, run_perf_e2e);
}

}  // namespace sluice::cli
