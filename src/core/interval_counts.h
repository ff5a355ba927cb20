// Intervals between one GPU's consecutive samples, counted by length, for the lower median that
// says how long its last sample stands (DESIGN.md, Samples). Real logs poll at a few distinct
// intervals (jitter adds some hundreds), so the table stays small and never grows with a steady
// poll: an open-addressing table of 8-byte slots, at most half full.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/time.h"

namespace gpuledger {

class IntervalCounts {
 public:
  // One interval (callers clip it, e.g. to max_gap + 1 ms, which bounds the table); one beyond
  // 49 days is counted as 49 days.
  void Add(DurationMs interval_ms, uint64_t times = 1);
  // Adds every interval "other" counted.
  void Merge(const IntervalCounts& other);
  // The lower median of the intervals counted; 0 when none.
  DurationMs LowerMedian() const;
  bool empty() const { return distinct_ == 0; }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::vector<std::pair<uint32_t, uint32_t>> slots_;  // (interval, count); kEmpty: free
  size_t distinct_ = 0;
};

}  // namespace gpuledger
