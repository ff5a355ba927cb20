// How long a sample stands (DESIGN.md, "Samples"): a valid sample at t stands for
// [t, min(t_next, t + max_gap)), where t_next is the GPU's next sample; the last sample stands
// for min(max_gap, the lower median of the GPU's intervals between samples), max_gap when it is
// the only one. The audit and the autokill policy both read GPU time through this definition.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/interval_counts.h"
#include "core/time.h"
#include "model/sample_sink.h"

namespace gpuledger {

// A stretch of one GPU's time that one sample stands for.
struct StoodInterval {
  TimeMs from = 0, to = 0;
  bool above = false;  // the sample was at or above the threshold
  bool held = false;   // below the threshold with memory_mib >= the held-memory floor
};

// Turns one GPU's samples, in time order, into the intervals they stand for. It holds back the
// latest sample until the next one (or Finish) tells how long it stands.
class SampleStream {
 public:
  // A sample below "threshold_pct" whose memory in use is at least "held_memory_mib" is held
  // idle (DESIGN.md, lenses).
  SampleStream(DurationMs max_gap_ms, double threshold_pct, double held_memory_mib = 1024)
      : max_gap_ms_(max_gap_ms), threshold_pct_(threshold_pct), held_mib_(held_memory_mib) {}

  // Samples come in non-decreasing time order. A sample at the instant of the previous one
  // replaces it (kDuplicate); an earlier one is refused (kOutOfOrder) and changes nothing.
  // On kAccepted, *done receives the previous sample's interval, if there was one.
  // "memory_mib" is kNoMemory (NaN) when the source has no memory reading.
  SampleVerdict Add(TimeMs t, double util_pct, double memory_mib,
                    std::optional<StoodInterval>* done);

  // The last sample's interval, in full (it stands for LastStandMs()); nullopt when there was
  // no sample.
  std::optional<StoodInterval> Finish() const;

  // How long the last sample stands: min(max_gap, TypicalIntervalMs()), max_gap with fewer
  // than two samples.
  DurationMs LastStandMs() const;

  // The lower median of the intervals between consecutive samples, where an interval longer
  // than max_gap counts as max_gap + 1 ms (so "typical poll slower than max_gap" shows as a
  // value above max_gap); 0 with fewer than two samples.
  DurationMs TypicalIntervalMs() const;

  // The end of what the samples stand for: last sample + LastStandMs(); kTimeMin when none.
  TimeMs StoodEnd() const;

  // What the last sample is known to stand for by "now" (no sample came after it):
  // [t, min(now, t + max_gap)). nullopt when there is none or it is empty.
  std::optional<StoodInterval> KnownBy(TimeMs now) const;

  uint64_t samples() const { return samples_; }
  uint64_t memory_samples() const { return memory_samples_; }  // samples with a memory reading
  TimeMs first_sample() const { return first_; }
  TimeMs last_sample() const { return last_t_; }

 private:
  DurationMs max_gap_ms_;
  double threshold_pct_;
  double held_mib_;
  uint64_t samples_ = 0;  // distinct instants
  uint64_t memory_samples_ = 0;
  TimeMs first_ = 0;
  TimeMs last_t_ = 0;
  bool last_above_ = false;
  bool last_held_ = false;
  bool last_has_memory_ = false;
  // Intervals between consecutive samples, clipped to max_gap + 1 (so that the table holds at
  // most max_gap + 2 keys whatever the input).
  IntervalCounts intervals_;
};

}  // namespace gpuledger
