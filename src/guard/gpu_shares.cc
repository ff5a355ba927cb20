#include "guard/gpu_shares.h"

#include <algorithm>

namespace gpuledger {
namespace {

// What one workload runs on one GPU.
struct OnGpu {
  double memory_mib = 0;
  bool memory_known = true;
  double util_pct = 0;
  bool util_known = true;  // every one of its processes there has a per-process utilisation
};

}  // namespace

std::map<std::string, WorkloadShare> ShareGpus(const GpuSnapshot& snap,
                                               const std::vector<AttributedProcess>& procs,
                                               double threshold_pct) {
  std::map<std::string, WorkloadShare> out;
  for (const GpuReading& gpu : snap.gpus) {
    if (!snap.Listed(gpu.index)) continue;
    std::map<std::string, OnGpu> here;
    for (const AttributedProcess& p : procs) {
      if (p.reading->gpu != gpu.index || p.workload.empty()) continue;
      OnGpu& w = here[p.workload];
      if (p.reading->memory_mib)
        w.memory_mib += *p.reading->memory_mib;
      else
        w.memory_known = false;
      if (p.reading->util_pct)
        w.util_pct += *p.reading->util_pct;
      else
        w.util_known = false;
    }
    const bool shared = here.size() > 1;
    // Per-process figures that leave a busy GPU with nobody busy disagree with the device's:
    // then nobody can tell who is busy either.
    bool anyone_busy = false, all_known = true;
    for (const auto& [id, w] : here) {
      anyone_busy = anyone_busy || (w.util_known && w.util_pct >= threshold_pct);
      all_known = all_known && w.util_known;
    }
    const bool trust_per_process = all_known && anyone_busy;
    for (const auto& [id, w] : here) {
      GpuReading r{gpu.index, gpu.util_pct, std::nullopt};
      if (w.memory_known) r.memory_used_mib = w.memory_mib;
      if (shared && gpu.util_pct >= threshold_pct) {
        // Busy and shared: each its own part where the driver says it for all
        // of them, else active.
        r.util_pct = trust_per_process ? std::min(100.0, w.util_pct) : 100.0;
      }
      WorkloadShare& share = out[id];
      share.gpus.push_back(r);
      share.shared = share.shared || shared;
    }
  }
  return out;
}

}  // namespace gpuledger
