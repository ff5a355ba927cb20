// Where `gpuledger run` reads its GPUs from: NVML (loaded at run time), nvidia-smi, or a
// recorded nvidia-smi CSV replayed in real or accelerated time (tests and demos).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "policy/job_watch.h"

namespace gpuledger {

// Readings of every GPU taken at one instant.
struct GpuSnapshot {
  TimeMs t = 0;
  std::vector<GpuReading> gpus;
};

class GpuSource {
 public:
  virtual ~GpuSource() = default;
  // The readings taken since the previous call, up to "now" (wall clock, ms since epoch).
  virtual Result<std::vector<GpuSnapshot>> Read(TimeMs now) = 0;
  // "NVML (libnvidia-ml.so.1), 8 GPUs", "replay of f.csv at 10x", …
  virtual std::string Describe() const = 0;
  // The instant the policy judges at when the wall clock reads "wall_now", and the clock of the
  // snapshots' t: the wall clock, except for a replay, which runs on its recording's clock.
  virtual TimeMs ClockAt(TimeMs wall_now) const { return wall_now; }
};

// Makes a source from a spec:
//   auto               NVML, else nvidia-smi, else none (with the reason in Describe())
//   nvml               NVML from libnvidia-ml.so.1 ($GPULEDGER_NVML_LIBRARY overrides the path)
//   nvidia-smi         `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` each read
//   replay:FILE[@N]    a recorded nvidia-smi CSV, N times faster than real time (default 1),
//                      its first row played at "start"; snapshots carry the recorded times
//   none               no GPUs
// Fails (kIo) when the named source cannot be used; kUsage for a malformed spec.
Result<std::unique_ptr<GpuSource>> MakeGpuSource(const std::string& spec, TimeMs start);

std::unique_ptr<GpuSource> MakeNoGpuSource(std::string why);

// One line of `nvidia-smi --query-gpu=index,utilization.gpu,memory.used
// --format=csv,noheader,nounits` ("0, 87, 30123"); false when it is not one. Memory that is
// not a number ("[N/A]") leaves memory_used_mib unset.
bool ParseGpuQueryLine(std::string_view line, GpuReading* out);
Result<std::unique_ptr<GpuSource>> MakeNvmlSource();
Result<std::unique_ptr<GpuSource>> MakeNvidiaSmiSource();
Result<std::unique_ptr<GpuSource>> MakeReplaySource(const std::string& path, double speed,
                                                    TimeMs start);

}  // namespace gpuledger
