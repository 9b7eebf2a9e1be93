#include "perf/bench_shard.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

namespace sluice::bench {
namespace {

std::string describe_choice(io::backend_kind kind, std::string_view chosen) {
  if (kind == io::backend_kind::io_uring) return "forced by --backend io_uring";
  if (kind == io::backend_kind::pwrite) return "forced by --backend pwrite";
  const char* env = std::getenv(io::backend_env_var);
  std::string_view v = env == nullptr ? "" : env;
  if (!v.empty() && v != "automatic") {
    return std::string("forced by ") + io::backend_env_var + "=" + std::string(v);
  }
  if (chosen == "io_uring") return "automatic: io_uring probe succeeded";
  return "automatic: io_uring probe failed, fell back to pwrite (reason logged above)";
}

}  // namespace

bench_shard::bench_shard(io::backend_kind kind)
    : io_(std::make_unique<timed_backend>(io::make_backend(ctx_, kind))),
      choice_(describe_choice(kind, io_->name())) {}

result<std::unique_ptr<partition_log>> bench_shard::open(const std::filesystem::path& dir,
                                                         const log_config& config,
                                                         std::chrono::duration<double>* elapsed) {
  const auto start = std::chrono::steady_clock::now();
  auto log = partition_log::open(dir, config, *io_, ctx_);
  if (elapsed != nullptr) *elapsed = std::chrono::steady_clock::now() - start;
  return log;
}

result<void> bench_shard::close(std::unique_ptr<partition_log> log) {
  std::optional<result<void>> done;
  log->close([&done](result<void> r) { done = std::move(r); });
  if (!run_until([&done] { return done.has_value(); })) {
    return make_errno_error(ECANCELED, "the io_context ran out of work before close() finished");
  }
  log.reset();
  return *done;
}

void bench_shard::crash(std::unique_ptr<partition_log> log) {
  log.reset();
  ctx_.restart();
  ctx_.poll();
}

}  // namespace sluice::bench
