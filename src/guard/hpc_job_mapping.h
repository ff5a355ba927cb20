// dcgm-exporter's HPC job mapping (DCGM_HPC_JOB_MAPPING_DIR): one file per GPU index holding
// the ids of the Slurm jobs on that GPU, one per line, so DCGM series carry hpc_job.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "gpu/gpu_source.h"
#include "guard/node_guard.h"

namespace gpuledger {

class HpcJobMapping {
 public:
  HpcJobMapping(std::string dir, std::FILE* log) : dir_(std::move(dir)), log_(log) {}

  // Each listed GPU's file gets the Slurm jobs "workloads" hold on it (empty: none), rewritten
  // atomically only when that changes. A GPU not read keeps its last file.
  void Write(const GpuSnapshot& snap, const std::map<std::string, TrackedWorkload>& workloads);

 private:
  std::string dir_;
  std::FILE* log_;
  std::map<int, std::string> written_;  // GPU index → the file's content
};

}  // namespace gpuledger
