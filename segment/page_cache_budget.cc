#include "segment/page_cache_budget.h"

#include <algorithm>

namespace sluice {

page_cache_budget::share::share(std::shared_ptr<page_cache_budget> budget)
    : budget_(std::move(budget)) {}

page_cache_budget::share::~share() {
  if (active_) budget_->active_.fetch_sub(1, std::memory_order_relaxed);
}

void page_cache_budget::share::note_durable(std::int64_t now_ms) {
  last_durable_ms_ = now_ms;
  if (active_) return;
  active_ = true;
  budget_->active_.fetch_add(1, std::memory_order_relaxed);
}

bool page_cache_budget::share::expire_if_idle(std::int64_t now_ms) {
  if (!active_ || now_ms - last_durable_ms_ < idle_after.count()) return false;
  active_ = false;
  budget_->active_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

std::int64_t page_cache_budget::share::keep_bytes(std::int64_t topic_keep_bytes) const {
  // A topic that keeps everything says so on purpose: the budget does not overrule it.
  if (topic_keep_bytes < 0) return topic_keep_bytes;
  const auto logs = static_cast<std::int64_t>(std::max<std::size_t>(budget_->active_logs(), 1));
  return std::min(topic_keep_bytes, budget_->total_bytes_ / logs);
}

}  // namespace sluice
