// The consumer facade: the caller's thread. Fetching happens on the io thread (fetcher.h);
// records arrive through the fetch_buffer. Calls that change positions or the assignment run on
// the io thread (io_thread::call), so they are ordered with the fetches they affect.

#include "consumer/consumer.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "consumer/fetch_buffer.h"
#include "consumer/fetcher.h"
#include "consumer/offset_requests.h"
#include "protocol/client/broker_address.h"
#include "protocol/client/client_errc.h"
#include "protocol/client/io_thread.h"
#include "protocol/wire_errc.h"

namespace sluice {

using namespace consumer_detail;

namespace {

error closed_error() {
  return make_error(client_errc::client_closed, "the consumer is closed");
}

}  // namespace

struct consumer::impl {
  explicit impl(consumer_config c) : config(std::move(c)) {}

  result<response_frame> round_trip(request_builder req);
  result<std::map<topic_partition, std::int64_t>> list_offsets(
      const std::vector<topic_partition>& tps, std::int64_t spec);
  result<std::map<std::string, std::int32_t>> partition_counts(std::vector<std::string> topics);
  result<void> check_assigned(const std::vector<topic_partition>& tps) const;
  result<void> seek_all(const std::map<topic_partition, std::int64_t>& offsets);
  result<void> seek_to_spec(const std::vector<topic_partition>& tps, std::int64_t spec);
  [[nodiscard]] const std::vector<topic_partition>& or_all(
      const std::vector<topic_partition>& tps) const {
    return tps.empty() ? assignment : tps;
  }

  consumer_config config;
  std::shared_ptr<fetch_buffer> buffer;
  io_thread io{"sluice-consumer"};
  std::shared_ptr<fetcher> fetch;
  std::vector<topic_partition> assignment;  // sorted; the caller's thread only
  bool closed = false;
};

result<response_frame> consumer::impl::round_trip(request_builder req) {
  // The promise outlives the handler: this frame waits until the handler has run.
  std::promise<result<response_frame>> done;
  auto answer = done.get_future();
  io.post([this, req = std::move(req), &done]() mutable {
    fetch->send(std::move(req),
                [&done](result<response_frame> r) { done.set_value(std::move(r)); });
  });
  return answer.get();
}

result<std::map<topic_partition, std::int64_t>> consumer::impl::list_offsets(
    const std::vector<topic_partition>& tps, std::int64_t spec) {
  std::map<topic_partition, std::int64_t> out;
  if (tps.empty()) return out;
  auto frame = round_trip(list_offsets_request(tps, spec));
  if (!frame) return frame.error();
  // A timestamp no record reaches yet stands for the end as the same lookup saw it.
  auto answers = read_list_offsets(*frame, tps, spec >= 0);
  if (!answers) return answers.error();
  for (const auto& tp : tps) {
    const auto& a = answers->at(tp);
    if (!a) return a.error();
    out[tp] = *a;
  }
  return out;
}

result<std::map<std::string, std::int32_t>> consumer::impl::partition_counts(
    std::vector<std::string> topics) {
  auto frame = round_trip(metadata_request(topics));
  if (!frame) return frame.error();
  return read_partition_counts(*frame, topics);
}

result<void> consumer::impl::check_assigned(const std::vector<topic_partition>& tps) const {
  if (closed) return closed_error();
  for (const auto& tp : tps) {
    if (!std::binary_search(assignment.begin(), assignment.end(), tp)) {
      return make_error(client_errc::invalid_argument,
                        fmt::format("{} is not assigned to this consumer", to_string(tp)));
    }
  }
  return {};
}

result<void> consumer::impl::seek_all(const std::map<topic_partition, std::int64_t>& offsets) {
  for (const auto& [tp, offset] : offsets) {
    if (offset < 0) {
      return make_error(
          client_errc::protocol_violation,
          fmt::format("ListOffsets answered offset {} for {}", offset, to_string(tp)));
    }
  }
  io.call([&] {
    for (const auto& [tp, offset] : offsets) fetch->seek(tp, offset);
  });
  return {};
}

result<void> consumer::impl::seek_to_spec(const std::vector<topic_partition>& tps,
                                          std::int64_t spec) {
  if (auto a = check_assigned(tps); !a) return a;
  auto offsets = list_offsets(tps, spec);
  if (!offsets) return offsets.error();
  return seek_all(*offsets);
}

result<std::unique_ptr<consumer>> consumer::create(consumer_config config) {
  if (auto v = config.validate(); !v) return v.error();
  auto bootstrap = bootstrap_brokers(config.brokers);
  if (!bootstrap) return bootstrap.error();
  auto p = std::make_unique<impl>(std::move(config));
  impl* self = p.get();
  // poll() frees room on the caller's thread; fetching resumes on the io thread.
  p->buffer = std::make_shared<fetch_buffer>(p->config.max_buffered_bytes, [self] {
    self->io.post([self] { self->fetch->maybe_fetch(); });
  });
  p->fetch =
      std::make_shared<fetcher>(p->io.executor(), p->config, std::move(*bootstrap), p->buffer);
  return std::unique_ptr<consumer>(new consumer(std::move(p)));
}

consumer::consumer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

consumer::~consumer() {
  close();
}

void consumer::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  impl_->io.call([this] { impl_->fetch->close(); });
  impl_->buffer->close(closed_error());
  impl_->io.stop();
}

result<void> consumer::assign(std::vector<topic_partition> partitions) {
  if (impl_->closed) return closed_error();
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  std::vector<std::string> topics;
  for (const auto& tp : partitions) {
    if (topics.empty() || topics.back() != tp.topic) topics.push_back(tp.topic);
  }
  if (!topics.empty()) {
    auto counts = impl_->partition_counts(topics);
    if (!counts) return counts.error();
    for (const auto& tp : partitions) {
      const auto count = counts->at(tp.topic);
      if (tp.partition < 0 || tp.partition >= count) {
        return make_error(wire::ErrorCode::unknown_partition,
                          fmt::format("partition {} does not exist (topic '{}' has {})",
                                      to_string(tp), tp.topic, count));
      }
    }
  }
  impl_->io.call([&] { impl_->fetch->assign(partitions); });
  impl_->assignment = std::move(partitions);
  return {};
}

std::vector<topic_partition> consumer::assignment() const {
  return impl_->assignment;
}

result<std::vector<topic_partition>> consumer::partitions_for(const std::string& topic) {
  if (impl_->closed) return closed_error();
  auto counts = impl_->partition_counts({topic});
  if (!counts) return counts.error();
  std::vector<topic_partition> out;
  out.reserve(static_cast<std::size_t>(counts->at(topic)));
  for (std::int32_t p = 0; p < counts->at(topic); ++p) out.push_back({topic, p});
  return out;
}

result<void> consumer::seek(const topic_partition& tp, std::int64_t offset) {
  if (auto a = impl_->check_assigned({tp}); !a) return a;
  if (offset < 0) {
    return make_error(
        client_errc::invalid_argument,
        fmt::format("seek {} to offset {}: offsets are not negative", to_string(tp), offset));
  }
  return impl_->seek_all({{tp, offset}});
}

result<void> consumer::seek_to_beginning(const std::vector<topic_partition>& tps) {
  return impl_->seek_to_spec(impl_->or_all(tps), earliest_spec);
}

result<void> consumer::seek_to_end(const std::vector<topic_partition>& tps) {
  return impl_->seek_to_spec(impl_->or_all(tps), latest_spec);
}

result<void> consumer::seek_to_timestamp(const std::vector<topic_partition>& tps,
                                         std::int64_t timestamp_ms) {
  const auto& targets = impl_->or_all(tps);
  if (auto a = impl_->check_assigned(targets); !a) return a;
  if (timestamp_ms < 0) {
    return make_error(
        client_errc::invalid_argument,
        fmt::format("seek to timestamp {}: timestamps are not negative", timestamp_ms));
  }
  auto offsets = impl_->list_offsets(targets, timestamp_ms);
  if (!offsets) return offsets.error();
  // Left at -1 only by a broker that does not say where its log ended at the lookup: the end
  // asked for now may be past records appended since, with timestamps at or after the seek's.
  std::vector<topic_partition> none_that_late;
  for (const auto& [tp, offset] : *offsets) {
    if (offset < 0) none_that_late.push_back(tp);
  }
  auto ends = impl_->list_offsets(none_that_late, latest_spec);
  if (!ends) return ends.error();
  for (const auto& [tp, offset] : *ends) (*offsets)[tp] = offset;
  return impl_->seek_all(*offsets);
}

result<std::vector<consumer_record>> consumer::poll(std::chrono::milliseconds timeout) {
  if (impl_->closed) return closed_error();
  return impl_->buffer->poll(timeout, impl_->config.max_poll_records);
}

result<std::int64_t> consumer::position(const topic_partition& tp) const {
  if (auto a = impl_->check_assigned({tp}); !a) return a.error();
  if (auto p = impl_->buffer->position(tp)) return *p;
  // No position yet: the reset per auto_offset_reset is still under way, or failed.
  using reset = consumer_config::offset_reset;
  if (impl_->config.auto_offset_reset == reset::none) {
    return make_error(
        wire::ErrorCode::offset_out_of_range,
        fmt::format("{} has no position and auto_offset_reset is none: seek first", to_string(tp)));
  }
  const auto spec =
      impl_->config.auto_offset_reset == reset::earliest ? earliest_spec : latest_spec;
  if (auto r = impl_->seek_to_spec({tp}, spec); !r) return r.error();
  if (auto p = impl_->buffer->position(tp)) return *p;
  return make_error(client_errc::invalid_argument,
                    fmt::format("{} has no position", to_string(tp)));
}

std::optional<std::int64_t> consumer::lag(const topic_partition& tp) const {
  const auto hw = impl_->buffer->high_watermark(tp);
  const auto position = impl_->buffer->position(tp);
  if (!hw || !position) return std::nullopt;
  return std::max<std::int64_t>(0, *hw - *position);
}

}  // namespace sluice
