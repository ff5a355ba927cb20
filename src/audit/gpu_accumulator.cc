#include "audit/gpu_accumulator.h"

#include <algorithm>
#include <cmath>

namespace gpuledger {

SampleVerdict GpuAccumulator::Add(TimeMs t, double util_pct) {
  std::optional<StoodInterval> done;
  const SampleVerdict v = stream_.Add(t, util_pct, &done);
  if (done) Credit(*done);
  return v;
}

void GpuAccumulator::AddSpan(TimeMs from, TimeMs to, DurationMs below_ms, DurationMs above_ms) {
  if (to <= from) return;
  ++spans_;
  while (cursor_ < pieces_.size() && pieces_[cursor_].end <= from) ++cursor_;
  const double length = static_cast<double>(to - from);
  DurationMs covered = 0, below_given = 0, above_given = 0;
  for (size_t i = cursor_; i < pieces_.size() && pieces_[i].start < to; ++i) {
    Piece& p = pieces_[i];
    const DurationMs overlap = std::min(to, p.end) - std::max(from, p.start);
    if (overlap <= 0) continue;
    covered += overlap;
    const double share = static_cast<double>(covered) / length;
    const DurationMs below = std::llround(below_ms * share) - below_given;
    const DurationMs above = std::llround(above_ms * share) - above_given;
    p.below_ms += below, below_given += below;
    p.above_ms += above, above_given += above;
  }
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
