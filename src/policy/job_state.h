// A job's (or a machine's) GPU state over time, as the autokill rules see it.
#pragma once

#include <vector>

#include "audit/sample_stream.h"
#include "core/time.h"

namespace gpuledger {

enum class GpusState : uint8_t {
  kUnmonitored,  // some GPU has no sample standing for the time, and none is active
  kIdle,         // every GPU is monitored and below threshold
  kActive,       // some GPU is at or above threshold
};

struct StateSpan {
  TimeMs from = 0, to = 0;
  GpusState state = GpusState::kUnmonitored;
};

// One GPU's stood intervals, sorted and disjoint; contiguous ones of one state are merged.
class GpuStateLog {
 public:
  void Append(const StoodInterval& in);
  const std::vector<StoodInterval>& intervals() const { return intervals_; }
  // Forgets the intervals that end at or before "t".
  void DropBefore(TimeMs t);

 private:
  std::vector<StoodInterval> intervals_;
};

// The combined state of "gpus" over [from, to), as contiguous spans covering it exactly.
std::vector<StateSpan> CombineStates(const std::vector<const GpuStateLog*>& gpus, TimeMs from,
                                     TimeMs to);

}  // namespace gpuledger
