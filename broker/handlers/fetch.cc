// Fetch: whole batches from each requested partition, sent straight from the segment files.
// Long poll: while fewer than min_bytes are available, the fetch waits (up to max_wait) for any
// of its partitions to advance past what it last read of it. The first that does is read on
// its own shard, at once, and the fetch decides again with that outcome; at max_wait, or when
// one of its partitions goes away (its topic deleted), every partition is read again.

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/handlers/error_fields.h"
#include "broker/handlers/request_context.h"
#include "broker/partition.h"

namespace sluice {
namespace {

struct wanted_partition {
  std::string topic;
  std::int32_t partition;
  offset from;
  std::size_t max_bytes;
  result<read_outcome> outcome = read_outcome{};
};

class fetch_operation : public abandonable, public std::enable_shared_from_this<fetch_operation> {
 public:
  fetch_operation(request_context ctx, const wire::FetchRequest& req)
      : ctx_(std::move(ctx)),
        timer_(ctx_.executor),
        min_bytes_(std::max(0, req.min_bytes())),
        max_bytes_(static_cast<std::size_t>(std::max(1, req.max_bytes()))),
        max_wait_(std::chrono::milliseconds(std::max(0, req.max_wait_ms()))) {
    if (req.topics() == nullptr) return;
    for (const auto* t : *req.topics()) {
      if (t->partitions() == nullptr) continue;
      for (const auto* p : *t->partitions()) {
        wanted_.push_back({t->name()->str(), p->partition(), offset{p->fetch_offset()},
                           static_cast<std::size_t>(std::max(1, p->max_bytes()))});
      }
    }
  }

  void start() {
    deadline_ = std::chrono::steady_clock::now() + max_wait_;
    ctx_.abandon_on_close(weak_from_this());
    if (!responded_) read_round();
  }

  // The client has gone: no answer, and nothing left waiting (the timer, the partitions'
  // waiters) to hold this operation until its max_wait.
  void abandon() override {
    if (responded_) return;
    responded_ = true;
    ++wait_generation_;
    timer_.cancel();
    waiters_.clear();
    ctx_.respond(std::nullopt);
  }

 private:
  void read_round() {
    ++wait_generation_;  // a wake still on its way belongs to a wait this round replaces
    waiters_.clear();
    auto self = shared_from_this();
    auto join = std::make_shared<fan_in>(wanted_.size(), [self] { self->on_round_done(); });
    for (auto& w : wanted_) {
      ctx_.svc.read(ctx_.executor, w.topic, w.partition, w.from, std::min(w.max_bytes, max_bytes_),
                    [&w, join](result<read_outcome> r) {
                      w.outcome = std::move(r);
                      join->arrive();
                    });
    }
  }

  std::size_t available_bytes() const {
    std::size_t total = 0;
    for (const auto& w : wanted_) {
      if (!w.outcome || !w.outcome->slice) return SIZE_MAX;  // an error answers at once
      total += w.outcome->slice->size;
    }
    return total;
  }

  void on_round_done() {
    if (responded_) return;  // abandoned while its reads were under way
    const bool expired = std::chrono::steady_clock::now() >= deadline_;
    if (available_bytes() >= min_bytes_ || expired || ctx_.stopping() || wanted_.empty()) {
      return respond();
    }
    wait_for_data();
  }

  void wait_for_data() {
    const std::uint64_t generation = ++wait_generation_;
    auto woken = std::make_shared<std::atomic<bool>>(false);  // the first partition to advance
    waiters_.clear();
    for (std::size_t i = 0; i < wanted_.size(); ++i) {
      const wanted_partition& w = wanted_[i];
      auto waiter = std::make_shared<data_waiter>(
          [weak = weak_from_this(), ex = ctx_.executor, woken, generation, i, from = w.from,
           max_bytes = std::min(w.max_bytes, max_bytes_)](const partition& p) {
            if (woken->exchange(true)) return;
            boost::asio::post(ex, [weak, generation, i, r = p.read(from, max_bytes)]() mutable {
              if (auto self = weak.lock()) self->on_woken(generation, i, std::move(r));
            });
          },
          [weak = weak_from_this(), ex = ctx_.executor, woken, generation] {
            if (woken->exchange(true)) return;
            boost::asio::post(ex, [weak, generation] {
              if (auto self = weak.lock()) self->on_partition_gone(generation);
            });
          });
      ctx_.svc.watch(w.topic, w.partition, waiter, wake_beyond(w));
      waiters_.push_back(std::move(waiter));
    }
    if (!timer_armed_) {
      timer_armed_ = true;
      timer_.expires_at(deadline_);
      timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && !self->responded_) self->read_round();
      });
    }
  }

  // Where a partition's waiter wakes: past what its last read already saw, so a partition that
  // has some data, but too little for min_bytes, wakes the fetch only when more arrives (from
  // the fetch offset itself it would wake at once, again and again until max_wait).
  static offset wake_beyond(const wanted_partition& w) {
    return w.outcome ? std::max(w.from, w.outcome->high_watermark) : w.from;
  }

  // Partition i advanced and was read on its shard; the others keep their last outcome.
  void on_woken(std::uint64_t generation, std::size_t i, result<read_outcome> r) {
    if (responded_ || generation != wait_generation_) return;
    waiters_.clear();
    wanted_[i].outcome = std::move(r);
    on_round_done();
  }

  // A partition closed (its topic deleted, the broker stopping) or was gone before its waiter
  // got there: read everything again, which answers with its error. A stopping broker answers
  // with what was read already (read again, its closed partitions would look unopened).
  void on_partition_gone(std::uint64_t generation) {
    if (responded_ || generation != wait_generation_) return;
    if (ctx_.stopping()) return respond();
    read_round();
  }

  void respond() {
    responded_ = true;
    timer_.cancel();
    waiters_.clear();
    response_builder b;
    wire::FetchResponseT out;
    std::size_t sent = 0;
    for (auto& w : wanted_) {
      auto pr = std::make_unique<wire::FetchPartitionResultT>();
      pr->partition = w.partition;
      if (!w.outcome) {
        set_error(*pr, w.outcome.error());
      } else {
        pr->high_watermark = w.outcome->high_watermark.value;
        pr->log_start_offset = w.outcome->log_start_offset.value;
        if (!w.outcome->slice) {
          set_error(*pr, w.outcome->slice.error());
        } else if (auto& slice = *w.outcome->slice;
                   !slice.empty() && (sent == 0 || sent + slice.size <= max_bytes_)) {
          // The request's max_bytes bounds the whole response, but the first batch always goes.
          sent += slice.size;
          pr->next_fetch_offset = slice.next_offset.value;
          pr->records = std::make_unique<wire::PayloadRange>(b.add_slice(std::move(slice)));
        }
      }
      topic_result(out, w.topic).partitions.push_back(std::move(pr));
    }
    b.finish_object(ctx_.request_id(), out);
    ctx_.respond(std::move(b));
  }

  static wire::FetchTopicResultT& topic_result(wire::FetchResponseT& out, const std::string& t) {
    if (out.topics.empty() || out.topics.back()->name != t) {
      auto tr = std::make_unique<wire::FetchTopicResultT>();
      tr->name = t;
      out.topics.push_back(std::move(tr));
    }
    return *out.topics.back();
  }

  request_context ctx_;
  boost::asio::steady_timer timer_;
  std::size_t min_bytes_;
  std::size_t max_bytes_;
  std::chrono::milliseconds max_wait_;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<wanted_partition> wanted_;
  std::vector<std::shared_ptr<data_waiter>> waiters_;  // one per partition, while waiting
  std::uint64_t wait_generation_ = 0;
  bool timer_armed_ = false;
  bool responded_ = false;
};

}  // namespace

void handle_fetch(request_context ctx) {
  const auto* req = ctx.request->body_as_FetchRequest();
  std::make_shared<fetch_operation>(std::move(ctx), *req)->start();
}

}  // namespace sluice
