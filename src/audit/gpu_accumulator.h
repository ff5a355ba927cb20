// Turns one GPU's samples, in time order, into monitored time on its timeline.
#pragma once

#include <cstdint>
#include <vector>

#include "audit/gpu_timeline.h"
#include "sources/sample_sink.h"

namespace gpuledger {

// A valid sample at t stands for [t, min(t_next, t + max_gap)) (DESIGN.md, "Samples"). The
// accumulator holds back the latest sample until the next one (or Finish) tells how long it
// stands, then credits that stretch to the pieces it overlaps, as below or at/above threshold.
// Memory is constant in the number of samples.
class GpuAccumulator {
 public:
  GpuAccumulator(std::vector<Piece> pieces, DurationMs max_gap_ms, double threshold_pct)
      : pieces_(std::move(pieces)), max_gap_ms_(max_gap_ms), threshold_pct_(threshold_pct) {}

  // Samples must come in non-decreasing time order; a sample at the same instant as the
  // previous one replaces it (kDuplicate); an earlier one is refused (kOutOfOrder) and changes
  // nothing.
  SampleVerdict Add(TimeMs t, double util_pct);

  // Credits the last sample. Call once, after the last Add.
  void Finish();

  const std::vector<Piece>& pieces() const { return pieces_; }
  uint64_t samples() const { return samples_; }
  bool has_samples() const { return samples_ > 0; }
  TimeMs first_sample() const { return first_; }
  TimeMs last_sample() const { return pending_t_; }

 private:
  void Credit(TimeMs from, TimeMs to, bool above);

  std::vector<Piece> pieces_;
  size_t cursor_ = 0;  // first piece that may still overlap future credits
  DurationMs max_gap_ms_;
  double threshold_pct_;
  uint64_t samples_ = 0;  // distinct instants
  TimeMs first_ = 0;
  TimeMs pending_t_ = 0;
  bool pending_above_ = false;
};

}  // namespace gpuledger
