#include "perf/append_driver.h"

namespace sluice::bench {

append_driver::append_driver(partition_log& log, std::span<const prebuilt_batch> batches,
                             int appenders)
    : log_(log), batches_(batches), appenders_(appenders) {
  SLUICE_ASSERT(!batches_.empty());
  SLUICE_ASSERT(appenders_ >= 1);
}

void append_driver::start() {
  for (int i = 0; i < appenders_; ++i) issue();
}

void append_driver::issue() {
  if (!may_issue()) return;
  const prebuilt_batch& batch = batches_[next_batch_];
  next_batch_ = (next_batch_ + 1) % batches_.size();
  issued_bytes_ += batch.bytes.size();
  ++outstanding_;
  byte_buffer copy = batch.bytes;
  const auto started = std::chrono::steady_clock::now();
  log_.append(std::move(copy), [this, &batch, started](result<append_info> r) {
    on_ack(batch, started, std::move(r));
  });
}

void append_driver::on_ack(const prebuilt_batch& batch,
                           std::chrono::steady_clock::time_point started, result<append_info> r) {
  const auto latency = std::chrono::steady_clock::now() - started;
  --outstanding_;
  if (!r) {
    if (!failure_) failure_ = r.error();
    return;
  }
  if (counting_) {
    ++stats_.appends;
    stats_.records += batch.records;
    stats_.bytes += batch.bytes.size();
    stats_.latency.record(latency);
  }
  issue();
}

}  // namespace sluice::bench
