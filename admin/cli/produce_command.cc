#include "admin/cli/produce_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <mutex>

#include "admin/admin.h"
#include "admin/cli/client_options.h"
#include "admin/cli/interruptible_producer.h"
#include "admin/cli/key_value.h"
#include "admin/cli/line_record.h"
#include "admin/cli/produce_summary.h"
#include "admin/cli/progress_bar.h"
#include "admin/cli/stop_signal.h"
#include "producer/producer.h"
#include "protocol/client/client_errc.h"

namespace sluice::cli {

namespace {

struct produce_options {
  std::string topic;
  std::string key_separator;
  std::vector<std::string> headers;
  std::int32_t partition = -1;  // -1: the producer's partitioner
  std::string file;
  bool progress = false;
  producer_options producer;
};

// The summary, updated by producer callbacks on the io thread.
struct shared_summary {
  std::mutex mu;
  produce_summary summary;
};

// Where lines come from: stdin or --file, and how many bytes were read (for the progress bar).
class line_input {
 public:
  explicit line_input(std::FILE* f) : f_(f) {}
  ~line_input() {
    std::free(buf_);  // NOLINT: allocated by getline()
    if (f_ != stdin) std::fclose(f_);
  }
  line_input(const line_input&) = delete;
  line_input& operator=(const line_input&) = delete;

  // The next line (with its "\n"), nullopt at the end, on a stop request or a read error.
  // A stop request ends the input between lines, whatever is still coming in.
  std::optional<std::string_view> next() {
    line_.clear();
    for (;;) {
      if (stop_requested()) return unfinished();
      const ssize_t n = ::getline(&buf_, &cap_, f_);
      if (n > 0) {
        line_.append(buf_, static_cast<std::size_t>(n));
        // A read interrupted by a signal hands back the line so far, with the error flag set:
        // the rest of it is still to come.
        if (line_.back() != '\n' && std::ferror(f_) != 0 && errno == EINTR) {
          std::clearerr(f_);
          continue;
        }
        bytes_read_ += line_.size();
        return std::string_view(line_);
      }
      if (std::feof(f_)) return unfinished();
      if (errno != EINTR) {
        error_ = make_errno_error(errno, "reading the input");
        return std::nullopt;
      }
      std::clearerr(f_);
    }
  }
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }
  [[nodiscard]] const std::optional<error>& read_error() const { return error_; }
  // Bytes of a line the input stopped in the middle of (a stop request): not sent.
  [[nodiscard]] std::size_t dropped_bytes() const { return dropped_bytes_; }

 private:
  std::optional<std::string_view> unfinished() {
    dropped_bytes_ = line_.size();
    return std::nullopt;
  }

  std::FILE* f_;
  char* buf_ = nullptr;
  std::size_t cap_ = 0;
  std::string line_;  // the line being read, across interrupted reads
  std::uint64_t bytes_read_ = 0;
  std::size_t dropped_bytes_ = 0;
  std::optional<error> error_;
};

std::vector<record_header_kv> parse_headers(const std::vector<std::string>& texts) {
  std::vector<record_header_kv> out;
  for (const auto& t : texts) {
    auto kv = parse_key_value(t, "--header").value();  // checked by the option's validator
    out.push_back({std::move(kv.key), std::move(kv.value)});
  }
  return out;
}

producer_record make_record(const produce_options& o, const std::vector<record_header_kv>& headers,
                            std::string_view line) {
  auto fields = split_line(strip_line_end(line), o.key_separator);
  producer_record r;
  r.topic = o.topic;
  r.key = std::move(fields.key);
  r.value = std::move(fields.value);
  r.headers = headers;
  if (o.partition >= 0) r.partition = o.partition;
  return r;
}

void send_one(producer& p, const producer_record& r, const std::shared_ptr<shared_summary>& s) {
  const auto bytes = record_bytes(r);
  auto sent = send_unless_interrupted(p, r, [&] {
    return [s, bytes](const result<record_metadata>& md) {
      const std::scoped_lock lock(s->mu);
      if (md) {
        s->summary.on_stored(*md, bytes);
      } else {
        s->summary.on_failed(md.error());
      }
    };
  });
  if (!sent) {
    const std::scoped_lock lock(s->mu);
    s->summary.on_failed(sent.error());
  }
}

std::optional<progress_bar> make_progress(const produce_options& o) {
  const bool wanted = o.progress || (!o.file.empty() && ::isatty(STDERR_FILENO) == 1);
  if (!wanted) return std::nullopt;
  std::error_code ec;
  const auto size = o.file.empty() ? 0 : std::filesystem::file_size(o.file, ec);
  return progress_bar(stderr, ec ? 0 : size);
}

// Reads every line and sends it; returns how many lines were read.
std::uint64_t send_lines(producer& p, line_input& in, const produce_options& o,
                         const std::shared_ptr<shared_summary>& s) {
  const auto headers = parse_headers(o.headers);
  auto progress = make_progress(o);
  std::uint64_t lines = 0;
  while (auto line = in.next()) {
    send_one(p, make_record(o, headers, *line), s);
    ++lines;
    if (progress) progress->update(in.bytes_read(), lines);
  }
  if (progress) progress->finish(in.bytes_read(), lines);
  return lines;
}

// Checks the topic (and --partition) with the broker before reading any input, so a typo
// fails at once with the broker's error rather than after the input was consumed.
exit_code check_topic(const command_context& ctx, const produce_options& o) {
  auto a = with_stop_signals_blocked([&] { return admin::create(make_admin_config(ctx)); });
  if (!a) return report_failure("connect to " + ctx.brokers, a.error());
  auto t = (*a)->describe_topic(o.topic);
  if (!t) return report_failure("produce to " + o.topic, t.error());
  const auto partitions = static_cast<std::int32_t>(t->partitions.size());
  if (o.partition >= partitions) {
    fmt::print(stderr, "sluice: produce to {}: partition {} does not exist (the topic has {})\n",
               o.topic, o.partition, partitions);
    return exit_code::failed;
  }
  return exit_code::ok;
}

std::FILE* open_input(const produce_options& o) {
  return o.file.empty() ? stdin : std::fopen(o.file.c_str(), "r");
}

exit_code finish(const produce_options& o, const line_input& in, shared_summary& s,
                 double seconds) {
  const std::scoped_lock lock(s.mu);
  fmt::print(stderr, "{}", s.summary.format(o.topic, seconds));
  if (stop_requested()) {
    fmt::print(stderr, "interrupted: stopped reading the input{}\n",
               in.dropped_bytes() == 0
                   ? ""
                   : fmt::format(" ({} bytes of an unfinished line not sent)", in.dropped_bytes()));
  }
  if (in.read_error()) return report_failure("produce to " + o.topic, *in.read_error());
  if (auto failed = s.summary.failure_line()) {
    fmt::print(stderr, "sluice: produce to {}: {}\n", o.topic, *failed);
    return exit_code::failed;
  }
  return exit_code::ok;
}

exit_code run_produce(const command_context& ctx, const produce_options& o) {
  install_stop_signals();
  if (auto checked = check_topic(ctx, o); checked != exit_code::ok) return checked;
  std::FILE* f = open_input(o);
  if (f == nullptr) return report_failure("open " + o.file, make_errno_error(errno, o.file));
  line_input in(f);
  auto p = with_stop_signals_blocked(
      [&] { return producer::create(make_interruptible(make_producer_config(ctx, o.producer))); });
  if (!p) return report_usage(p.error().message());  // only a bad setting fails here
  auto s = std::make_shared<shared_summary>();
  const auto start = std::chrono::steady_clock::now();
  send_lines(**p, in, o, s);
  const auto flushed = flush_unless_interrupted(**p);
  (*p)->close();  // fails whatever is still pending, so the summary counts every record
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  const auto code = finish(o, in, *s, took.count());
  if (!flushed) {  // given up (a signal), after the summary saying what failed
    const auto flush_code = report_failure("produce to " + o.topic, flushed.error());
    if (code == exit_code::ok) return flush_code;
  }
  return code;
}

}  // namespace

void add_produce_command(CLI::App& app, command_context& ctx) {
  auto o = std::make_shared<produce_options>();
  auto* cmd = app.add_subcommand(
      "produce",
      "Send each input line as a record (value = the line); a summary goes to stderr. Exits 1 "
      "if any record failed, naming the error");
  cmd->add_option("TOPIC", o->topic, "topic to write to")->required();
  cmd->add_option("-K,--key-separator", o->key_separator,
                  "the key is the text before the first SEP, the value the text after it "
                  "(a line without SEP has a null key)");
  cmd->add_option("-H,--header", o->headers, "header NAME=VALUE on every record, repeatable")
      ->check(key_value_validator("--header"));
  cmd->add_option("-p,--partition", o->partition,
                  "write every record to this partition (default: by key, round-robin without)")
      ->check(whole_number_validator(0, std::numeric_limits<std::int32_t>::max()));
  cmd->add_option("-f,--file", o->file, "read records from this file instead of stdin")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--progress", o->progress,
                "draw progress on stderr (the default with --file when stderr is a terminal)");
  add_producer_options(*cmd, o->producer);
  add_brokers_option(*cmd, ctx);
  on_parsed(*cmd, ctx, o, run_produce);
}

}  // namespace sluice::cli
