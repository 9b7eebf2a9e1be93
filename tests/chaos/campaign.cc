#include "tests/chaos/campaign.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "admin/admin.h"
#include "tests/crash/crash_config.h"
#include "tests/crash/kill_points.h"
#include "tests/integration/broker_process.h"
#include "tests/integration/child_process.h"

namespace sluice::chaos {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::broker_process;
using clock_type = std::chrono::steady_clock;

const std::string main_topic = "chaos";
const std::string retained_topic = "chaos-retained";
constexpr const char* killpoints_program = "sluiced-killpoints";
// How long a kill-point cycle waits for the broker to reach its point.
constexpr auto kill_point_wait = 20s;
// How long producers may take to get an acknowledgement after a restart or a pause.
constexpr auto progress_wait = 30s;

void log(const std::string& line) {
  std::fprintf(stderr, "sluice-chaos: %s\n", line.c_str());
}

// A loopback port that was free a moment ago, for the broker to keep across restarts.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind to a loopback port failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string tail_of(const std::string& text, std::size_t bytes = 3000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct cycle_plan {
  std::string kill_point{};  // empty: a random kill
  int n = 0;
  bool pause = false;
};

class campaign {
 public:
  explicit campaign(const campaign_options& o) : o_(o), rng_(o.seed) {
    if (o_.data_dir.empty()) {
      tmp_.emplace("sluice-chaos");
      root_ = tmp_->path();
    } else {
      root_ = o_.data_dir;
      fs::create_directories(root_);
    }
    broker_dir_ = root_ / "broker";
    report_file_ = root_ / "kill-report";
    port_ = free_port();
  }

  campaign_result run() {
    start_broker({});
    create_topics();
    fleet_.emplace(fleet_config{
        .brokers = fmt::format("127.0.0.1:{}", port_),
        .topics = {{.name = main_topic, .partitions = o_.partitions, .weight = 3},
                   {.name = retained_topic, .partitions = 1, .weight = 1}},
        .producers = o_.producers,
        .seed = o_.seed,
        .request_timeout = o_.request_timeout,
    });
    const auto plans = make_plans();
    log(fmt::format("{} cycles ({} random, {} at kill points), broker on port {}, data in {}",
                    plans.size(), o_.cycles, plans.size() - static_cast<std::size_t>(o_.cycles),
                    port_, root_.string()));
    for (std::size_t i = 0; i < plans.size(); ++i) {
      run_cycle(i, plans[i]);
      if (!result_.failures.empty()) break;
    }
    if (result_.failures.empty()) finish();
    return std::move(result_);
  }

 private:
  std::vector<cycle_plan> make_plans() {
    std::vector<cycle_plan> plans;
    for (int i = 1; i <= o_.cycles; ++i) {
      plans.push_back({.pause = o_.pause_every > 0 && i % o_.pause_every == 0});
    }
    for (int round = 0; round < o_.kill_point_rounds; ++round) {
      for (const auto& kp : crash::kill_points) {
        if (kp.name == "log_truncated") continue;  // a recovery cut: not every crash leaves one
        std::uniform_int_distribution<int> n(1, kp.max_n);
        plans.push_back({.kill_point = std::string(kp.name), .n = n(rng_)});
      }
    }
    std::shuffle(plans.begin(), plans.end(), rng_);
    return plans;
  }

  // Starts sluiced (or sluiced-killpoints with `kp` armed). False when it died during start-up;
  // that is a failure unless it reached its kill point.
  bool start_broker(const cycle_plan& kp) {
    broker_process::options bo{
        .data_dir = broker_dir_,
        .extra_args = {"--retention-check-interval-ms", "100"},
        .start_timeout = 60s,
        .port = port_,
    };
    if (!kp.kill_point.empty()) {
      bo.program = killpoints_program;
      bo.env = {fmt::format("{}={}:{}", crash::kill_at_env, kp.kill_point, kp.n),
                fmt::format("{}={}", crash::kill_report_env, report_file_.string())};
      fs::remove(report_file_);
    }
    broker_.reset();
    try {
      broker_.emplace(std::move(bo));
      return true;
    } catch (const std::exception& e) {
      if (!kp.kill_point.empty() &&
          read_file(report_file_).find(kp.kill_point) != std::string::npos) {
        return false;  // it killed itself at the point while recovering
      }
      result_.failures.push_back(fmt::format("broker did not start: {}", tail_of(e.what())));
      return false;
    }
  }

  void create_topics() {
    auto a = admin::create({.brokers = fmt::format("127.0.0.1:{}", port_)});
    if (!a) throw std::runtime_error("admin: " + a.error().message());
    auto check = [](const result<void>& r, const std::string& what) {
      if (!r) throw std::runtime_error("create " + what + ": " + r.error().message());
    };
    check((*a)->create_topic({.name = main_topic,
                              .partitions = o_.partitions,
                              .configs = {{"flush", "always"},
                                          {"segment.bytes", "524288"},
                                          {"retention.bytes", "-1"},
                                          {"retention.ms", "-1"}}}),
          main_topic);
    check((*a)->create_topic({.name = retained_topic,
                              .partitions = 1,
                              .configs = {{"flush", "always"},
                                          {"segment.bytes", "16384"},
                                          {"retention.bytes", "65536"},
                                          {"retention.ms", "-1"}}}),
          retained_topic);
  }

  bool await_progress(const std::string& after) {
    const auto before = fleet_->acked();
    const auto deadline = clock_type::now() + progress_wait;
    while (fleet_->acked() == before) {
      if (clock_type::now() > deadline) {
        result_.failures.push_back(
            fmt::format("no record acknowledged within {} s {} (acked {}, failed {}): {}",
                        std::chrono::duration_cast<std::chrono::seconds>(progress_wait).count(),
                        after, fleet_->acked(), fleet_->failed(),
                        broker_ ? tail_of(broker_->log_text(), 1500) : "broker down"));
        return false;
      }
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  void sleep_for(double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }

  void run_cycle(std::size_t index, const cycle_plan& plan) {
    const auto acked_before = fleet_->acked();
    if (plan.kill_point.empty()) {
      if ((!broker_ || !broker_->running()) && !start_broker({})) return;
      std::uniform_real_distribution<double> run_time(0.2 * o_.seconds_per_cycle,
                                                      1.8 * o_.seconds_per_cycle);
      const double t = run_time(rng_);
      if (plan.pause) {
        sleep_for(t / 2);
        broker_->pause();
        std::this_thread::sleep_for(o_.pause_for);
        broker_->resume();
        ++pauses_;
        if (!await_progress(
                fmt::format("after a {} ms pause (cycle {})", o_.pause_for.count(), index + 1))) {
          return;
        }
        sleep_for(t / 2);
      } else {
        sleep_for(t);
      }
      broker_->kill();
    } else {
      if (broker_ && broker_->running()) broker_->kill();  // (only before the first cycle)
      run_kill_point_cycle(index, plan);
      if (!result_.failures.empty()) return;
    }
    ++result_.cycles;
    if (fleet_->acked() == acked_before) ++idle_cycles_;
    if ((index + 1) % 10 == 0) {
      log(fmt::format("cycle {}: acked {} failed {} sent {}", index + 1, fleet_->acked(),
                      fleet_->failed(), fleet_->sent()));
    }
    std::uniform_int_distribution<int> down_ms(0, 300);
    std::this_thread::sleep_for(std::chrono::milliseconds(down_ms(rng_)));
  }

  // The broker must kill itself at the point; if it does not get there in time, the cycle is
  // tried again with n = 1 (twice), and a point never reached fails the run.
  void run_kill_point_cycle(std::size_t index, cycle_plan plan) {
    for (int attempt = 0; attempt < 3; ++attempt, plan.n = 1) {
      if (attempt > 0) ++result_.cycles;  // the missed attempt ended with a kill too
      if (!start_broker(plan)) {
        if (!result_.failures.empty()) return;
        hit(plan, "during start-up");
        return;
      }
      const auto deadline = clock_type::now() + kill_point_wait;
      while (clock_type::now() < deadline) {
        if (auto status = broker_->exited()) {
          if (WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL &&
              read_file(report_file_).find(plan.kill_point) != std::string::npos) {
            hit(plan, "under load");
            return;
          }
          result_.failures.push_back(fmt::format(
              "cycle {}: sluiced-killpoints ({}:{}) ended with status {} without its kill "
              "point: {}",
              index + 1, plan.kill_point, plan.n, *status, tail_of(broker_->log_text())));
          return;
        }
        std::this_thread::sleep_for(5ms);
      }
      log(fmt::format("cycle {}: {}:{} not reached within {} s; again with n=1", index + 1,
                      plan.kill_point, plan.n,
                      std::chrono::duration_cast<std::chrono::seconds>(kill_point_wait).count()));
      broker_->kill();
    }
    result_.failures.push_back(
        fmt::format("kill point {} never reached (cycle {})", plan.kill_point, index + 1));
  }

  void hit(const cycle_plan& plan, const char* when) {
    ++kill_point_hits_;
    log(fmt::format("killed at {} (hit {}) {}", plan.kill_point, plan.n, when));
  }

  void finish() {
    if (!start_broker({})) return;
    if (!await_progress("after the last restart")) return;
    if (!fleet_->stop(120s)) {
      result_.failures.push_back("records still without an outcome 120 s after the last send");
    }
    // Read after the stop: read before it, records sent meanwhile made "acked" exceed "sent".
    const auto sent = fleet_->sent();
    log(fmt::format(
        "producers stopped: sent {} acked {} failed {} (idle cycles {}, pauses {}, "
        "kill points hit {})",
        sent, fleet_->acked(), fleet_->failed(), idle_cycles_, pauses_, kill_point_hits_));
    for (const auto& e : fleet_->sample_errors()) log("  send error: " + e);

    // Nothing may expire while the log is read.
    auto a = admin::create({.brokers = fmt::format("127.0.0.1:{}", port_)});
    if (!a) throw std::runtime_error("admin: " + a.error().message());
    if (auto r = (*a)->alter_topic_config(retained_topic, {{"retention.bytes", "-1"}}); !r) {
      result_.failures.push_back("switching retention off: " + r.error().message());
      return;
    }
    std::this_thread::sleep_for(300ms);  // a retention pass already under way ends
    result_.v = verify_log(fmt::format("127.0.0.1:{}", port_),
                           {{.name = main_topic, .partitions = o_.partitions},
                            {.name = retained_topic, .partitions = 1, .retention = true}},
                           fleet_->acks(), o_.seed, 300s);
    if (const int rc = broker_->stop(60s); rc != 0) {
      result_.failures.push_back(fmt::format("sluiced exited with {} after SIGTERM: {}", rc,
                                             tail_of(broker_->log_text())));
    }
  }

  campaign_options o_;
  std::mt19937_64 rng_;
  std::optional<testing::temp_dir> tmp_;
  fs::path root_;
  fs::path broker_dir_;
  fs::path report_file_;
  std::uint16_t port_ = 0;
  std::optional<broker_process> broker_;
  std::optional<producer_fleet> fleet_;
  campaign_result result_;
  int idle_cycles_ = 0;
  int pauses_ = 0;
  int kill_point_hits_ = 0;
};

}  // namespace

campaign_result run_campaign(const campaign_options& options) {
  return campaign(options).run();
}

}  // namespace sluice::chaos
