// The checks `gpuledger run` makes before it starts a job, so failures cost seconds, not hours.
#pragma once

#include <cstdio>
#include <string>

#include "core/error.h"
#include "gpu/gpu_source.h"

namespace gpuledger {

struct GitState {
  std::string commit;  // empty outside a git working tree
  bool dirty = false;
};

// The working tree's commit and whether it has uncommitted changes.
GitState ReadGitState();

// "dir" exists (created if missing) and a file can be written in it.
Result<void> CheckWritableDir(const std::string& dir);

// Runs "command" with /bin/sh -c (a preflight check, the release command); fails with its exit
// status unless it exits 0.
Result<void> RunShellCommand(const std::string& command);

// Reports on "log" the GPUs visible and whether any already looks busy (at or above
// "threshold_pct", or over 1 GiB of memory used). Fails when "require_gpu" and none is visible.
// Returns the readings it took, for the job's record.
Result<std::vector<GpuSnapshot>> CheckGpus(GpuSource* source, TimeMs now, double threshold_pct,
                                           bool require_gpu, std::FILE* log);

}  // namespace gpuledger
