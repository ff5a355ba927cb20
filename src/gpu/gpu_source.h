// Where `gpuledger run` and `gpuledger guard` read their GPUs from: NVML (loaded at run time),
// nvidia-smi, or a recorded nvidia-smi CSV replayed in real or accelerated time (tests and
// demos). NVML and nvidia-smi also list each GPU's compute processes, which the guard needs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "model/gpu_reading.h"

namespace gpuledger {

// One compute process on one GPU, as the driver lists it.
struct GpuProcessReading {
  int gpu = 0;
  int64_t pid = 0;                   // in the host's pid namespace (what NVML reports)
  std::optional<double> memory_mib;  // unset when the driver does not say
  // Its share of the GPU's SM time over the last sample period, where the driver keeps
  // per-process samples (NVML nvmlDeviceGetProcessUtilization); a process without a sample in
  // the period is 0. Unset when the driver keeps none.
  std::optional<double> util_pct;
};

// Readings of every GPU taken at one instant. A GPU whose reading failed is absent from "gpus"
// (it is unmonitored for that instant: missing data never kills) and named in "errors".
struct GpuSnapshot {
  TimeMs t = 0;
  std::vector<GpuReading> gpus;
  // True when the source lists compute processes (NVML, nvidia-smi; a replay does not): then
  // "processes" holds every compute process of the GPUs in "gpus" except those in
  // "unlisted_gpus", whose process listing failed.
  bool processes_listed = false;
  std::vector<GpuProcessReading> processes;
  std::vector<int> unlisted_gpus;
  std::vector<int> unread_gpus;     // GPUs whose reading failed (absent from "gpus")
  std::vector<std::string> errors;  // "GPU 2: GPU is lost (NVML error 15)"

  // True when GPU "gpu" was read and its processes listed: what is known of who holds it.
  bool Listed(int gpu) const;
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
  // False for the "none" source (and `auto` finding no GPU): nothing to read.
  virtual bool HasGpus() const { return true; }
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
// not a number ("[N/A]") leaves memory_used_mib unset. With "uuid", the line has a fourth field,
// the GPU's uuid (`--query-gpu=index,utilization.gpu,memory.used,uuid`), stored there.
bool ParseGpuQueryLine(std::string_view line, GpuReading* out, std::string* uuid = nullptr);

// One line of `nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory
// --format=csv,noheader,nounits` ("4242, GPU-5f…, 30123"); false when it is not one.
struct ComputeAppLine {
  int64_t pid = 0;
  std::string gpu_uuid;
  std::optional<double> memory_mib;
};
bool ParseComputeAppLine(std::string_view line, ComputeAppLine* out);
Result<std::unique_ptr<GpuSource>> MakeNvmlSource();
Result<std::unique_ptr<GpuSource>> MakeNvidiaSmiSource();
Result<std::unique_ptr<GpuSource>> MakeReplaySource(const std::string& path, double speed,
                                                    TimeMs start);

}  // namespace gpuledger
