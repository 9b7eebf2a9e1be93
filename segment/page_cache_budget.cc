#include "segment/page_cache_budget.h"

#include <algorithm>

namespace sluice {

page_cache_budget::share::share(std::shared_ptr<page_cache_budget> budget)
    : budget_(std::move(budget)) {
  budget_->logs_.fetch_add(1, std::memory_order_relaxed);
}

page_cache_budget::share::~share() {
  budget_->logs_.fetch_sub(1, std::memory_order_relaxed);
}

std::int64_t page_cache_budget::share::keep_bytes(std::int64_t topic_keep_bytes) const {
  // A topic that keeps everything says so on purpose: the budget does not overrule it.
  if (topic_keep_bytes < 0 || budget_->total_bytes_ < 0) return topic_keep_bytes;
  const auto logs = static_cast<std::int64_t>(std::max<std::size_t>(budget_->logs(), 1));
  return std::min(topic_keep_bytes, budget_->total_bytes_ / logs);
}

}  // namespace sluice
