#include "core/interval_counts.h"

#include <algorithm>

namespace gpuledger {
namespace {

size_t Slot(uint32_t key, size_t mask) {
  return static_cast<size_t>(static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull >> 32) & mask;
}

}  // namespace

void IntervalCounts::Add(DurationMs interval_ms, uint64_t times) {
  const uint32_t interval = static_cast<uint32_t>(std::min<DurationMs>(interval_ms, kEmpty - 1));
  if ((distinct_ + 1) * 2 > slots_.size()) {  // keep the table at most half full
    std::vector<std::pair<uint32_t, uint32_t>> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), {kEmpty, 0});
    for (const auto& [key, count] : old) {
      if (key == kEmpty) continue;
      size_t s = Slot(key, slots_.size() - 1);
      while (slots_[s].first != kEmpty) s = (s + 1) & (slots_.size() - 1);
      slots_[s] = {key, count};
    }
  }
  size_t s = Slot(interval, slots_.size() - 1);
  while (slots_[s].first != kEmpty && slots_[s].first != interval) {
    s = (s + 1) & (slots_.size() - 1);
  }
  if (slots_[s].first == kEmpty) slots_[s].first = interval, ++distinct_;
  // Saturates, never wraps.
  slots_[s].second = static_cast<uint32_t>(std::min<uint64_t>(slots_[s].second + times, kEmpty));
}

void IntervalCounts::Merge(const IntervalCounts& other) {
  for (const auto& [key, count] : other.slots_) {
    if (key != kEmpty) Add(key, count);
  }
}

DurationMs IntervalCounts::LowerMedian() const {
  if (distinct_ == 0) return 0;
  std::vector<std::pair<DurationMs, uint64_t>> sorted;
  sorted.reserve(distinct_);
  for (const auto& [key, count] : slots_) {
    if (key != kEmpty) sorted.emplace_back(key, count);
  }
  std::sort(sorted.begin(), sorted.end());
  uint64_t n = 0;
  for (const auto& [interval, count] : sorted) n += count;
  const uint64_t lower_median = (n - 1) / 2;  // 0-based rank
  uint64_t seen = 0;
  for (const auto& [interval, count] : sorted) {
    seen += count;
    if (seen > lower_median) return interval;
  }
  return sorted.back().first;
}

}  // namespace gpuledger
