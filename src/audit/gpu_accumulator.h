// Turns one GPU's samples, in time order, into monitored time on its timeline.
#pragma once

#include <cstdint>
#include <vector>

#include "audit/gpu_timeline.h"
#include "audit/sample_stream.h"

namespace gpuledger {

// Credits the interval each sample stands for (SampleStream) to the pieces it overlaps, as
// below or at/above threshold. Memory is constant in the number of samples.
class GpuAccumulator {
 public:
  GpuAccumulator(std::vector<Piece> pieces, DurationMs max_gap_ms, double threshold_pct)
      : pieces_(std::move(pieces)), stream_(max_gap_ms, threshold_pct) {}

  // See SampleStream::Add for the order samples must come in.
  SampleVerdict Add(TimeMs t, double util_pct);

  // Credits a roll-up span (SampleSink::AddSpan): its below and above time spread evenly over
  // [from, to), each piece taking its share of the overlap (rounded so the shares add up).
  void AddSpan(TimeMs from, TimeMs to, DurationMs below_ms, DurationMs above_ms);

  // Credits the last sample. Call once, after the last Add.
  void Finish();

  const std::vector<Piece>& pieces() const { return pieces_; }
  uint64_t samples() const { return stream_.samples() + spans_; }  // spans count as one each
  bool has_samples() const { return stream_.samples() > 0; }
  TimeMs first_sample() const { return stream_.first_sample(); }
  TimeMs last_sample() const { return stream_.last_sample(); }

 private:
  void Credit(const StoodInterval& interval);

  std::vector<Piece> pieces_;
  size_t cursor_ = 0;  // first piece that may still overlap future credits
  SampleStream stream_;
  uint64_t spans_ = 0;
};

}  // namespace gpuledger
