// A workload's utilisation on each GPU it holds (DESIGN.md, "The node guard"): a GPU whose
// compute processes all belong to one workload gives it the device's utilisation. A GPU shared
// by several: below threshold, each is idle on it; at or above, each gets the sum of its
// processes' per-process utilisation when the driver gives it for all of them, else it counts as
// active (nobody can tell who is busy, so nobody is killed). Memory is what its processes hold.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gpu/gpu_source.h"

namespace gpuledger {

// One GPU compute process with the workload it belongs to (empty: the process is gone).
struct AttributedProcess {
  const GpuProcessReading* reading = nullptr;
  std::string workload;
};

struct WorkloadShare {
  std::vector<GpuReading> gpus;  // one per GPU it holds that was read
  bool shared = false;           // some GPU of it is shared with another workload
};

// Per workload id, its readings at one snapshot. GPUs that were not read, or whose processes
// were not listed, give no reading (they are unmonitored for their workloads).
std::map<std::string, WorkloadShare> ShareGpus(const GpuSnapshot& snap,
                                               const std::vector<AttributedProcess>& procs,
                                               double threshold_pct);

}  // namespace gpuledger
