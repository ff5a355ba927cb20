#include "audit/gpu_accumulator.h"

#include <algorithm>

namespace gpuledger {

SampleVerdict GpuAccumulator::Add(TimeMs t, double util_pct) {
  const bool above = util_pct >= threshold_pct_;
  if (samples_ == 0) {
    first_ = t;
  } else if (t == pending_t_) {
    pending_above_ = above;  // rows at the same instant collapse to the last one read
    return SampleVerdict::kDuplicate;
  } else if (t < pending_t_) {
    return SampleVerdict::kOutOfOrder;
  } else {
    Credit(pending_t_, std::min(t, pending_t_ + max_gap_ms_), pending_above_);
  }
  ++samples_;
  pending_t_ = t;
  pending_above_ = above;
  return SampleVerdict::kAccepted;
}

void GpuAccumulator::Finish() {
  if (samples_ > 0) Credit(pending_t_, pending_t_ + max_gap_ms_, pending_above_);
}

void GpuAccumulator::Credit(TimeMs from, TimeMs to, bool above) {
  // Credits arrive in increasing "from" order, so pieces ending at or before "from" are done.
  while (cursor_ < pieces_.size() && pieces_[cursor_].end <= from) ++cursor_;
  for (size_t i = cursor_; i < pieces_.size() && pieces_[i].start < to; ++i) {
    Piece& p = pieces_[i];
    const DurationMs overlap = std::min(to, p.end) - std::max(from, p.start);
    if (overlap <= 0) continue;
    (above ? p.above_ms : p.below_ms) += overlap;
  }
}

}  // namespace gpuledger
