#include "audit/sample_stream.h"

#include <algorithm>

namespace gpuledger {

SampleVerdict SampleStream::Add(TimeMs t, double util_pct, std::optional<StoodInterval>* done) {
  const bool above = util_pct >= threshold_pct_;
  if (samples_ == 0) {
    first_ = t;
  } else if (t == last_t_) {
    last_above_ = above;  // rows at the same instant collapse to the last one read
    return SampleVerdict::kDuplicate;
  } else if (t < last_t_) {
    return SampleVerdict::kOutOfOrder;
  } else {
    *done = StoodInterval{last_t_, std::min(t, last_t_ + max_gap_ms_), last_above_};
  }
  ++samples_;
  last_t_ = t;
  last_above_ = above;
  return SampleVerdict::kAccepted;
}

std::optional<StoodInterval> SampleStream::Finish() const {
  if (samples_ == 0) return std::nullopt;
  return StoodInterval{last_t_, last_t_ + max_gap_ms_, last_above_};
}

std::optional<StoodInterval> SampleStream::KnownBy(TimeMs now) const {
  if (samples_ == 0) return std::nullopt;
  const TimeMs to = std::min(now, last_t_ + max_gap_ms_);
  if (to <= last_t_) return std::nullopt;
  return StoodInterval{last_t_, to, last_above_};
}

}  // namespace gpuledger
