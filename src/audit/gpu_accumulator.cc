#include "audit/gpu_accumulator.h"

#include <algorithm>

namespace gpuledger {

SampleVerdict GpuAccumulator::Add(TimeMs t, double util_pct) {
  std::optional<StoodInterval> done;
  const SampleVerdict v = stream_.Add(t, util_pct, &done);
  if (done) Credit(*done);
  return v;
}

void GpuAccumulator::Finish() {
  if (auto last = stream_.Finish()) Credit(*last);
}

void GpuAccumulator::Credit(const StoodInterval& in) {
  // Credits arrive in increasing "from" order, so pieces ending at or before "from" are done.
  while (cursor_ < pieces_.size() && pieces_[cursor_].end <= in.from) ++cursor_;
  for (size_t i = cursor_; i < pieces_.size() && pieces_[i].start < in.to; ++i) {
    Piece& p = pieces_[i];
    const DurationMs overlap = std::min(in.to, p.end) - std::max(in.from, p.start);
    if (overlap <= 0) continue;
    (in.above ? p.above_ms : p.below_ms) += overlap;
  }
}

}  // namespace gpuledger
