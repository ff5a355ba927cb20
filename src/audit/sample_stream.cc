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
    intervals_.Add(std::min(t - last_t_, max_gap_ms_ + 1));
  }
  ++samples_;
  memory_samples_ += has_memory;
  last_t_ = t;
  last_above_ = above, last_held_ = held, last_has_memory_ = has_memory;
  return SampleVerdict::kAccepted;
}

DurationMs SampleStream::TypicalIntervalMs() const { return intervals_.LowerMedian(); }

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
