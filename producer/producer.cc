// The producer facade: checks a record, finds its partition, and hands it to the accumulator;
// everything else happens on the io thread (sender.h).

#include "producer/producer.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "producer/coarse_clock.h"
#include "producer/metadata_fetcher.h"
#include "producer/producer_batch.h"
#include "producer/record_accumulator.h"
#include "producer/sender.h"
#include "producer/topic_metadata.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/broker_pool.h"
#include "protocol/client/client_errc.h"
#include "protocol/client/io_thread.h"
#include "protocol/record_batch_format.h"
#include "protocol/wire_errc.h"

namespace sluice {

using namespace producer_internal;

// Members are destroyed in reverse order: the io thread last, after close() stopped it.
struct producer::impl {
  producer_config config;
  io_thread io{"sluice-producer"};
  std::shared_ptr<broker_pool> pool;
  producer_counters counters;
  std::unique_ptr<topic_metadata> metadata;
  std::shared_ptr<metadata_fetcher> fetcher;
  std::unique_ptr<record_accumulator> accumulator;
  std::unique_ptr<sender> io_sender;
  std::atomic<bool> closed{false};
  // send() calls under way: close() lets them finish (a callback they queue must still run on
  // the io thread) before it stops the io thread.
  std::atomic<int> active_sends{0};
  std::mutex close_mutex;
  bool stopped = false;  // guarded by close_mutex

  impl(producer_config c, std::vector<broker_address> brokers);
  // Delivers an error the broker gave about the record's topic: through the callback, on the
  // io thread, as every outcome.
  void fail_later(producer::callback cb, error e);
  // Waits until the io thread has run everything posted to it before this call (fail_later's
  // callbacks among them), or until the deadline. After close() nothing is left to run.
  result<void> drain_posted(clock::time_point deadline);
};

namespace {

record_accumulator::options accumulator_options(const producer_config& c,
                                                std::function<void()> wake) {
  record_accumulator::options o;
  o.batch_size = c.batch_size;
  o.buffer_memory = c.buffer_memory;
  o.linger = c.linger;
  o.batch_options.codec = c.codec;
  o.batch_options.zstd_level = c.zstd_level;
  o.wake = std::move(wake);
  return o;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

producer::impl::impl(producer_config c, std::vector<broker_address> brokers)
    : config(std::move(c)) {
  client_connection::options opts;
  opts.client_id = config.client_id;
  opts.request_timeout = config.request_timeout;
  pool = std::make_shared<broker_pool>(io.executor(), std::move(brokers), opts);
  metadata = std::make_unique<topic_metadata>(
      [this](const std::string& topic) { io.post([f = fetcher, topic] { f->fetch(topic); }); },
      config.metadata_max_age, config.retry_backoff);
  fetcher =
      std::make_shared<metadata_fetcher>(io.executor(), pool, *metadata, config.retry_backoff);
  accumulator = std::make_unique<record_accumulator>(
      accumulator_options(config, [this] { io_sender->wake(); }));
  io_sender =
      std::make_unique<sender>(io.executor(), pool, *accumulator, *metadata, config, counters);
}

void producer::impl::fail_later(producer::callback cb, error e) {
  counters.records_failed.fetch_add(1, std::memory_order_relaxed);
  io.post([cb = std::move(cb), e = std::move(e)] {
    if (cb) cb(e);
  });
}

result<void> producer::impl::drain_posted(clock::time_point deadline) {
  auto reached = std::make_shared<std::promise<void>>();
  auto future = reached->get_future();
  {
    // A close() under way holds the lock until the io thread has stopped, after running what
    // was posted before it; a barrier posted later would never run.
    std::lock_guard lock(close_mutex);
    if (stopped) return {};
    io.post([reached] { reached->set_value(); });
  }
  if (future.wait_until(deadline) == std::future_status::ready) return {};
  return make_error(client_errc::timed_out,
                    "flush: callbacks still waiting for the io thread at the deadline");
}

result<std::unique_ptr<producer>> producer::create(producer_config config) {
  if (auto v = config.validate(); !v) return v.error();
  auto brokers = bootstrap_brokers(config.brokers);
  if (!brokers) return brokers.error();
  return std::unique_ptr<producer>(
      new producer(std::make_unique<impl>(std::move(config), std::move(*brokers))));
}

producer::producer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

producer::~producer() {
  close();
}

result<void> producer::send(const producer_record& record, callback cb) {
  auto& m = *impl_;
  m.active_sends.fetch_add(1, std::memory_order_acq_rel);
  struct leave {
    std::atomic<int>& n;
    ~leave() { n.fetch_sub(1, std::memory_order_acq_rel); }
  } guard{m.active_sends};
  if (m.closed.load(std::memory_order_acquire)) {
    return make_error(client_errc::client_closed, "producer closed");
  }
  if (record.topic.empty()) return make_error(client_errc::invalid_argument, "empty topic name");
  const auto size = record_size_upper_bound(record);
  if (batch_header_size + size > m.config.max_request_size) {
    return make_error(wire::ErrorCode::message_too_large,
                      fmt::format("a record of {} bytes (batch header included) exceeds "
                                  "max_request_size {}",
                                  batch_header_size + size, m.config.max_request_size));
  }
  // A callback's send() runs on the io thread, which cannot wait for itself.
  const bool may_block = !m.io.on_this_thread();
  const auto deadline = coarse_now() + m.config.max_block;
  auto count = m.metadata->partition_count(record.topic, deadline, may_block);
  if (!count) {
    if (count.error().code.category() == client_category()) return count.error();
    m.fail_later(std::move(cb), count.error());  // the broker's word on the topic
    return {};
  }
  std::int32_t partition = record_accumulator::any_partition;
  if (record.partition) {
    partition = *record.partition;
    if (partition < 0 || partition >= *count) {
      m.fail_later(std::move(cb), make_error(wire::ErrorCode::unknown_partition,
                                             fmt::format("topic '{}' has partitions 0 to {}",
                                                         record.topic, *count - 1)));
      return {};
    }
  } else if (record.key) {
    partition = partition_for_key(*record.key, *count);
  }
  const auto timestamp = record.timestamp ? *record.timestamp : now_ms();
  return m.accumulator->append(record.topic, partition, *count, record, timestamp, size,
                               std::move(cb), deadline, may_block);
}

std::future<result<record_metadata>> producer::send(const producer_record& record) {
  auto promise = std::make_shared<std::promise<result<record_metadata>>>();
  auto future = promise->get_future();
  auto queued =
      send(record, [promise](const result<record_metadata>& r) { promise->set_value(r); });
  if (!queued) promise->set_value(queued.error());
  return future;
}

result<void> producer::flush(std::chrono::milliseconds timeout) {
  if (impl_->io.on_this_thread()) {
    return make_error(client_errc::invalid_argument,
                      "flush() from a producer callback would wait for itself");
  }
  const auto deadline = clock::now() + timeout;
  if (auto flushed = impl_->accumulator->flush(deadline); !flushed) return flushed;
  // An outcome send() decided itself (an unknown topic or partition) never entered the
  // accumulator: its callback was posted to the io thread, and runs before this barrier does.
  return impl_->drain_posted(deadline);
}

void producer::close(std::chrono::milliseconds timeout) {
  auto& m = *impl_;
  // REQUIRES: not from a callback (the io thread cannot stop itself).
  SLUICE_ASSERT(!m.io.on_this_thread());
  std::lock_guard lock(m.close_mutex);
  if (m.stopped) return;
  // What is still pending after the timeout fails below. (Not flush(): the io.call below is
  // the barrier behind fail_later's callbacks, and flush()'s own would wait for this lock.)
  (void)m.accumulator->flush(clock::now() + timeout);
  m.closed = true;
  m.metadata->close();
  m.io.call([&m] {
    m.io_sender->abort(make_error(client_errc::client_closed, "producer closed"));
    m.fetcher->close();
    m.pool->close();
  });
  // Sends still under way now fail fast (closed accumulator and metadata); what they queue for
  // the io thread must run before it stops.
  while (m.active_sends.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  m.io.call([] {});
  m.io.stop();
  m.stopped = true;
}

producer::stats producer::statistics() const {
  const auto& c = impl_->counters;
  stats s;
  s.records_sent = c.records_sent.load(std::memory_order_relaxed);
  s.records_failed = c.records_failed.load(std::memory_order_relaxed);
  s.batches_sent = c.batches_sent.load(std::memory_order_relaxed);
  s.retries = c.retries.load(std::memory_order_relaxed);
  s.bytes_buffered = impl_->accumulator->buffered_bytes();
  return s;
}

}  // namespace sluice
