#include "audit/sample_stream.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gpuledger {

SampleVerdict SampleStream::Add(TimeMs t, double util_pct, double memory_mib,
                                std::optional<StoodInterval>* done) {
  const bool above = util_pct >= threshold_pct_;
  const bool has_memory = !std::isnan(memory_mib);
  const bool held = !above && has_memory && memory_mib >= held_mib_;
  if (samples_ == 0) {
    first_ = t;
  } else if (t == last_t_) {
    // Rows at the same instant collapse to the last one read.
    memory_samples_ += static_cast<uint64_t>(has_memory) - static_cast<uint64_t>(last_has_memory_);
    last_above_ = above, last_held_ = held, last_has_memory_ = has_memory;
    return SampleVerdict::kDuplicate;
  } else if (t < last_t_) {
    return SampleVerdict::kOutOfOrder;
  } else {
    *done = StoodInterval{last_t_, std::min(t, last_t_ + max_gap_ms_), last_above_, last_held_};
    CountInterval(std::min(t - last_t_, max_gap_ms_ + 1));
  }
  ++samples_;
  memory_samples_ += has_memory;
  last_t_ = t;
  last_above_ = above, last_held_ = held, last_has_memory_ = has_memory;
  return SampleVerdict::kAccepted;
}

namespace {

size_t Slot(uint32_t key, size_t mask) {
  return static_cast<size_t>(static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull >> 32) & mask;
}

}  // namespace

void SampleStream::CountInterval(DurationMs interval_ms) {
  // Clipped to max_gap + 1 by the caller; a max_gap beyond 49 days would not fit: clip again.
  const uint32_t interval = static_cast<uint32_t>(std::min<DurationMs>(interval_ms, kEmpty - 1));
  if ((distinct_ + 1) * 2 > intervals_.size()) {  // keep the table at most half full
    std::vector<std::pair<uint32_t, uint32_t>> old = std::move(intervals_);
    intervals_.assign(std::max<size_t>(16, old.size() * 2), {kEmpty, 0});
    for (const auto& [key, count] : old) {
      if (key == kEmpty) continue;
      size_t s = Slot(key, intervals_.size() - 1);
      while (intervals_[s].first != kEmpty) s = (s + 1) & (intervals_.size() - 1);
      intervals_[s] = {key, count};
    }
  }
  size_t s = Slot(interval, intervals_.size() - 1);
  while (intervals_[s].first != kEmpty && intervals_[s].first != interval) {
    s = (s + 1) & (intervals_.size() - 1);
  }
  if (intervals_[s].first == kEmpty) intervals_[s].first = interval, ++distinct_;
  if (++intervals_[s].second == 0) --intervals_[s].second;  // saturate, never wrap
}

DurationMs SampleStream::TypicalIntervalMs() const {
  if (distinct_ == 0) return 0;
  std::vector<std::pair<DurationMs, uint64_t>> sorted;
  sorted.reserve(distinct_);
  for (const auto& [key, count] : intervals_) {
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

DurationMs SampleStream::LastStandMs() const {
  if (samples_ < 2) return max_gap_ms_;
  return std::min(max_gap_ms_, TypicalIntervalMs());
}

TimeMs SampleStream::StoodEnd() const { return samples_ == 0 ? kTimeMin : last_t_ + LastStandMs(); }

std::optional<StoodInterval> SampleStream::Finish() const {
  if (samples_ == 0) return std::nullopt;
  return StoodInterval{last_t_, last_t_ + LastStandMs(), last_above_, last_held_};
}

std::optional<StoodInterval> SampleStream::KnownBy(TimeMs now) const {
  if (samples_ == 0) return std::nullopt;
  const TimeMs to = std::min(now, last_t_ + max_gap_ms_);
  if (to <= last_t_) return std::nullopt;
  return StoodInterval{last_t_, to, last_above_, last_held_};
}

}  // namespace gpuledger
