// How long a sample stands (DESIGN.md, "Samples"): a valid sample at t stands for
// [t, min(t_next, t + max_gap)), where t_next is the GPU's next sample. The audit and the
// autokill policy both read GPU time through this one definition.
#pragma once

#include <cstdint>
#include <optional>

#include "core/time.h"
#include "sources/sample_sink.h"

namespace gpuledger {

// A stretch of one GPU's time that one sample stands for.
struct StoodInterval {
  TimeMs from = 0, to = 0;
  bool above = false;  // the sample was at or above the threshold
};

// Turns one GPU's samples, in time order, into the intervals they stand for. It holds back the
// latest sample until the next one (or Finish) tells how long it stands.
class SampleStream {
 public:
  SampleStream(DurationMs max_gap_ms, double threshold_pct)
      : max_gap_ms_(max_gap_ms), threshold_pct_(threshold_pct) {}

  // Samples come in non-decreasing time order. A sample at the instant of the previous one
  // replaces it (kDuplicate); an earlier one is refused (kOutOfOrder) and changes nothing.
  // On kAccepted, *done receives the previous sample's interval, if there was one.
  SampleVerdict Add(TimeMs t, double util_pct, std::optional<StoodInterval>* done);

  // The last sample's interval, in full; nullopt when there was no sample.
  std::optional<StoodInterval> Finish() const;

  // What the last sample is known to stand for by "now" (no sample came after it):
  // [t, min(now, t + max_gap)). nullopt when there is none or it is empty.
  std::optional<StoodInterval> KnownBy(TimeMs now) const;

  uint64_t samples() const { return samples_; }
  TimeMs first_sample() const { return first_; }
  TimeMs last_sample() const { return last_t_; }

 private:
  DurationMs max_gap_ms_;
  double threshold_pct_;
  uint64_t samples_ = 0;  // distinct instants
  TimeMs first_ = 0;
  TimeMs last_t_ = 0;
  bool last_above_ = false;
};

}  // namespace gpuledger
