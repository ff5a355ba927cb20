// Runs of the workloads telemetry labels name (model/series_workload.h), from one machine's
// samples. Pure.
#pragma once

#include <vector>

#include "model/series_workload.h"

namespace gpuledger {

struct WorkloadSample {
  TimeMs t = 0;
  int32_t gpu = 0;
  int32_t workload = -1;  // -1: a series that names no workload
};

// A run of a workload starts at its first sample and ends where what its last sample stands for
// ends, exactly as the audit reads the GPU's samples (DESIGN.md, Samples): a sample at t stands
// until the GPU's next sample, at most max_gap; the GPU's last one for min(max_gap, the lower
// median of its intervals). A gap over "max_gap_ms" between a workload's consecutive samples
// (on any of its GPUs) ends its run; the next sample starts another. Runs come sorted by
// (workload, start). "samples" may come in any order; several at one instant of one GPU (one
// per time-sliced pod) count once for the GPU and once for each workload.
std::vector<WorkloadRun> WorkloadRuns(std::vector<WorkloadSample> samples, DurationMs max_gap_ms);

}  // namespace gpuledger
