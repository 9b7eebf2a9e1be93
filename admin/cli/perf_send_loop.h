#pragma once
// The sending half of `sluice perf produce` and `perf e2e`: records of --record-size bytes,
// paced to --throughput, until --num-records or --duration (or a stop request); each ack's
// send-to-ack latency goes into `acks`.

#include <chrono>
#include <cstdint>

#include "admin/cli/perf_options.h"
#include "admin/cli/perf_stats.h"
#include "producer/producer.h"

namespace sluice::cli {

struct send_loop_result {
  std::uint64_t sent = 0;               // send() calls, accepted or not
  std::chrono::nanoseconds elapsed{0};  // first send to the last ack (flush included)
};

// With stamp_send_time, each value starts with the steady clock's nanoseconds at send()
// (perf_payload.h), for the consuming side of e2e. Returns after flush().
send_loop_result run_send_loop(producer& p, const perf_options& o, perf_stats& acks,
                               bool stamp_send_time);

}  // namespace sluice::cli
