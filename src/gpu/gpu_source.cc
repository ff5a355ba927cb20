#include "gpu/gpu_source.h"

#include <algorithm>
#include <charconv>

namespace gpuledger {
namespace {

class NoGpuSource : public GpuSource {
 public:
  explicit NoGpuSource(std::string why) : why_(std::move(why)) {}
  Result<std::vector<GpuSnapshot>> Read(TimeMs) override { return std::vector<GpuSnapshot>{}; }
  std::string Describe() const override { return "no GPUs (" + why_ + ")"; }
  bool HasGpus() const override { return false; }

 private:
  std::string why_;
};

}  // namespace

bool GpuSnapshot::Listed(int gpu) const {
  return std::any_of(gpus.begin(), gpus.end(),
                     [&](const GpuReading& r) { return r.index == gpu; }) &&
         std::find(unlisted_gpus.begin(), unlisted_gpus.end(), gpu) == unlisted_gpus.end();
}

std::unique_ptr<GpuSource> MakeNoGpuSource(std::string why) {
  return std::make_unique<NoGpuSource>(std::move(why));
}

Result<std::unique_ptr<GpuSource>> MakeGpuSource(const std::string& spec, TimeMs start) {
  if (spec == "none") return MakeNoGpuSource("--gpu-source none");
  if (spec == "nvml") return MakeNvmlSource();
  if (spec == "nvidia-smi") return MakeNvidiaSmiSource();
  if (spec.starts_with("replay:")) {
    std::string path = spec.substr(7);
    double speed = 1;
    if (const size_t at = path.rfind('@'); at != std::string::npos) {
      const std::string n = path.substr(at + 1);
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), speed);
      if (ec != std::errc() || end != n.data() + n.size() || speed <= 0) {
        return MakeError(ErrorCode::kUsage, "replay speed must be a positive number", spec);
      }
      path.resize(at);
    }
    return MakeReplaySource(path, speed, start);
  }
  if (spec == "auto") {
    auto nvml = MakeNvmlSource();
    if (nvml) return nvml;
    auto smi = MakeNvidiaSmiSource();
    if (smi) return smi;
    return MakeNoGpuSource(nvml.error().message + "; " + smi.error().message);
  }
  return MakeError(ErrorCode::kUsage,
                   "unknown GPU source (use auto, nvml, nvidia-smi, replay:FILE[@SPEED] or none)",
                   spec);
}

}  // namespace gpuledger
