// sluice-bench: storage benchmarks of the Sluice partition log. Subcommands:
//   append   closed-loop appenders vs the disk's sequential-write limit
//   recover  open time after a clean close and after a crash
//   fsync    the disk's own pwrite + fdatasync latency for small appends
// See perf/README.md.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <map>
#include <string>

#include "perf/append_bench.h"
#include "perf/bench_options.h"
#include "perf/fsync_bench.h"
#include "perf/recover_bench.h"
#include "perf/scratch_dir.h"
#include "protocol/buffer_heap.h"
#include "protocol/record_batch_format.h"

namespace sluice::bench {
namespace {

// The log refuses batches above max.message.bytes; its default bounds --batch-bytes.
constexpr std::size_t max_batch_bytes = log_config{}.max_message_bytes;
// The smallest batch: a header and one small record.
constexpr std::size_t min_batch_bytes = 128;

struct cli_state {
  append_options append;
  recover_options recover;
  fsync_options fsync;
  std::string append_flush = "always";
  std::string dir;
  std::string backend = "auto";
  bool verbose = false;
};

CLI::Validator flush_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto parsed = flush_policy::parse(text);
        return parsed ? std::string() : parsed.error().detail;
      },
      "always|interval:MS");
}

void add_common(CLI::App& cmd, cli_state& s, common_options& common) {
  cmd.add_option("--dir", s.dir,
                 "parent of the scratch directory (default ./bench-data, on the build's "
                 "filesystem); the scratch directory is deleted afterwards");
  cmd.add_flag("--json", common.json, "end the output with one JSON line of the figures");
  cmd.add_option("--backend", s.backend,
                 "I/O backend: auto (io_uring if a ring can be set up, else pwrite; "
                 "SLUICE_IO_BACKEND overrides auto), io_uring, pwrite")
      ->check(CLI::IsMember({"auto", "io_uring", "pwrite"}))
      ->capture_default_str();
  cmd.add_flag("-v,--verbose", s.verbose, "show the storage engine's info log lines");
}

CLI::App* add_append(CLI::App& app, cli_state& s) {
  auto* cmd = app.add_subcommand("append",
                                 "closed-loop appenders against one partition log, "
                                 "compared with the disk's sequential-write limit");
  append_options& o = s.append;
  cmd->add_option("--record-size", o.record_size, "value bytes per record")
      ->check(CLI::Range(std::size_t{1}, max_batch_bytes - min_batch_bytes))
      ->capture_default_str();
  cmd->add_option("--batch-bytes", o.batch_bytes, "target bytes per record batch")
      ->check(CLI::Range(min_batch_bytes, max_batch_bytes))
      ->capture_default_str();
  cmd->add_option("--appenders", o.appenders, "concurrent appenders, one append outstanding each")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--flush", s.append_flush, "flush policy: always | interval:MS")
      ->check(flush_validator())
      ->capture_default_str();
  cmd->add_option("--seconds", o.seconds, "measured duration")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_flag("!--no-baseline", o.baseline,
                "skip the disk baseline (to profile the log alone); no ratio is reported");
  cmd->add_option("--syncs-in-flight", o.syncs_in_flight,
                  "group commits allowed in flight at once (partition_log::max_syncs_in_flight)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}))
      ->capture_default_str();
  cmd->add_option("--segment-mib", o.segment_mib, "segment.bytes of the log, in MiB")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--retention-mib", o.retention_mib,
                  "retention.bytes of the log in MiB, enforced every 100 ms (-1: none)")
      ->check(CLI::Range(std::int64_t{-1}, std::int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_flag("!--no-recycle", o.recycle,
                "delete the segments retention drops instead of writing new ones over them");
  cmd->add_option("--warmup-seconds", o.warmup_seconds,
                  "append this long before the timed window (e.g. to reach retention)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  add_common(*cmd, s, o.common);
  return cmd;
}

CLI::App* add_recover(CLI::App& app, cli_state& s) {
  auto* cmd = app.add_subcommand("recover",
                                 "open time after a clean close and after a crash "
                                 "with a tail past the last checkpoint");
  recover_options& o = s.recover;
  cmd->add_option("--log-mib", o.log_mib, "MiB in the log before its last checkpoint")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--tail-mib", o.tail_mib, "MiB appended after the checkpoint, before the crash")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--cold", o.cold,
                "drop the log's pages from the page cache (posix_fadvise, no root needed) before "
                "each timed open, so recovery reads the disk");
  add_common(*cmd, s, o.common);
  return cmd;
}

CLI::App* add_fsync(CLI::App& app, cli_state& s) {
  auto* cmd = app.add_subcommand("fsync",
                                 "the disk's own latency for a durable small append: pwrite at "
                                 "the end of a file, then fdatasync");
  fsync_options& o = s.fsync;
  cmd->add_option("--write-bytes", o.write_bytes, "bytes per append")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("--seconds", o.seconds, "measured duration")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--rate", o.rate, "appends per second (0: back to back)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  add_common(*cmd, s, o.common);
  return cmd;
}

// Fills in what the callbacks could not: the parsed flush policy and the directory.
void finish_options(cli_state& s) {
  std::filesystem::path dir = s.dir.empty() ? default_bench_parent() : std::filesystem::path(s.dir);
  s.append.common.dir = s.recover.common.dir = s.fsync.common.dir = dir;
  const std::map<std::string, io::backend_kind> kinds{{"auto", io::backend_kind::automatic},
                                                      {"io_uring", io::backend_kind::io_uring},
                                                      {"pwrite", io::backend_kind::pwrite}};
  s.append.common.backend = s.recover.common.backend = kinds.at(s.backend);
  s.append.flush = flush_policy::parse(s.append_flush).value();  // validated by CLI11
  spdlog::set_level(s.verbose ? spdlog::level::info : spdlog::level::warn);
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  // The appenders' batches stand for the broker's request frames: the heap as sluiced sets it.
  sluice::keep_freed_buffer_memory();
  CLI::App app{"sluice-bench: storage benchmarks of the Sluice partition log"};
  app.require_subcommand(1);
  cli_state s;
  CLI::App* append = add_append(app, s);
  CLI::App* recover = add_recover(app, s);
  CLI::App* fsync = add_fsync(app, s);
  CLI11_PARSE(app, argc, argv);
  try {
    finish_options(s);
    if (append->parsed()) return run_append_bench(s.append);
    if (recover->parsed()) return run_recover_bench(s.recover);
    if (fsync->parsed()) return run_fsync_bench(s.fsync);
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice-bench: {}\n", e.what());
    return 1;
  }
  return 2;
}
